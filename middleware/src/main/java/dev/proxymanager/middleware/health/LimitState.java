package dev.proxymanager.middleware.health;

/**
 * What the engine's count says about a secret's limit windows when an outcome of it is reported; decides whether a
 * 429 means "limit reached" ({@link OutcomeClassifier#limitReached}). Immutable and threadsafe.
 *
 * <p>"Near" is defined precisely: the store's last answer about the secret, at or after the grant of the use being
 * reported, said one of its windows was full — the grant filled it (it held {@code limit - 1} uses or more before)
 * or later uses did — so no further use fits before {@code nextFreeSlot}.
 *
 * @param nearLimit whether a window was full at or after the use's grant
 * @param nextFreeSlot when that window next admits a use, clock nanos (0 when not near a limit)
 */
public record LimitState(boolean nearLimit, long nextFreeSlot) {

    /** Not known to be near any limit (no limits, or no window was full since the grant). */
    public static final LimitState UNKNOWN = new LimitState(false, 0);

    public LimitState {
        if (!nearLimit && nextFreeSlot != 0) {
            throw new IllegalArgumentException("nextFreeSlot must be 0 when not near a limit, was " + nextFreeSlot);
        }
    }

    /** At a limit whose window next admits a use at {@code nextFreeSlot} (clock nanos). */
    public static LimitState atLimitUntil(long nextFreeSlot) {
        return new LimitState(true, nextFreeSlot);
    }
}
