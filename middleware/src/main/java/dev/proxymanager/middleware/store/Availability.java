package dev.proxymanager.middleware.store;

import java.util.Objects;

/**
 * When a secret can next be granted and, if not now, why. Immutable and threadsafe.
 *
 * @param freeAt when it may be granted ({@code now} if now; {@link Long#MAX_VALUE} when removed), clock nanos
 * @param cause why not now, or {@link UnavailableCause#READY}
 * @param limit for {@link UnavailableCause#AT_LIMIT}, the index (in the candidate's limit list) of the limit that
 *              binds; else -1
 */
public record Availability(long freeAt, UnavailableCause cause, int limit) {

    public Availability {
        Objects.requireNonNull(cause, "cause");
        if (cause == UnavailableCause.AT_LIMIT ? limit < 0 : limit != -1) {
            throw new IllegalArgumentException("limit must be a limit index with AT_LIMIT and -1 otherwise, was "
                    + limit + " with " + cause);
        }
    }

    /** Not at a limit: {@code cause} is anything but {@link UnavailableCause#AT_LIMIT}. */
    public Availability(long freeAt, UnavailableCause cause) {
        this(freeAt, cause, -1);
    }

    /** At the limit with index {@code limit} until {@code freeAt}. */
    public static Availability atLimit(long freeAt, int limit) {
        return new Availability(freeAt, UnavailableCause.AT_LIMIT, limit);
    }

    /**
     * The rule every store applies to what it holds about a secret. A removed secret is
     * {@link UnavailableCause#REMOVED}; otherwise it frees at the latest of now, its cooldown's end, its limits' free
     * time and, when every lease slot is held, the earliest lease end, and the cause is whichever of these decides
     * (on a tie: the cooldown, then the limit, then the leases; full leases are the cause of a secret that is
     * otherwise free now).
     *
     * @param limitsFreeAt when every limit admits a use ({@code now} or earlier if they do now)
     * @param limit the index of the limit that frees last, for {@code limitsFreeAt} (-1 when none is reached)
     */
    public static Availability decide(long now, boolean removed, long cooldownUntil, long limitsFreeAt, int limit,
                                      boolean leasesFull, long earliestLeaseEnd) {
        if (removed) {
            return new Availability(Long.MAX_VALUE, UnavailableCause.REMOVED);
        }
        long freeAt = now;
        UnavailableCause cause = UnavailableCause.READY;
        int binding = -1;
        if (cooldownUntil > freeAt) {
            freeAt = cooldownUntil;
            cause = UnavailableCause.COOLING_DOWN;
        }
        if (limitsFreeAt > freeAt) {
            freeAt = limitsFreeAt;
            cause = UnavailableCause.AT_LIMIT;
            binding = limit;
        }
        if (leasesFull) {
            if (earliestLeaseEnd > freeAt) {
                freeAt = earliestLeaseEnd;
                cause = UnavailableCause.LEASED;
                binding = -1;
            } else if (cause == UnavailableCause.READY) {
                cause = UnavailableCause.LEASED;
            }
        }
        return new Availability(freeAt, cause, binding);
    }
}
