package dev.proxymanager.middleware.store;

/**
 * When a secret can next be granted and, if not now, why. {@code cause} is one of the constants below or, when
 * zero or more, the index (in the candidate's limit list) of the limit that blocks. Immutable and threadsafe.
 *
 * @param freeAt when it may be granted ({@code now} if now; {@link Long#MAX_VALUE} when removed), clock nanos
 * @param cause {@link #FREE}, {@link #COOLDOWN}, {@link #LEASED}, {@link #REMOVED}, {@link #UNAVAILABLE} or a limit
 *              index
 */
public record Availability(long freeAt, int cause) {
    /** Grantable now. */
    public static final int FREE = -1;
    /** Cooling down (health, Retry-After or a usage cap). */
    public static final int COOLDOWN = -2;
    /** All lease slots held. */
    public static final int LEASED = -3;
    /** Out of rotation until restored. */
    public static final int REMOVED = -4;
    /** The shared usage store is unreachable and the configured mode is fail-closed; ask again at {@code freeAt}. */
    public static final int UNAVAILABLE = -5;

    /**
     * The rule every store applies to what it holds about a secret. A removed secret is {@link #REMOVED}; otherwise it
     * frees at the latest of now, its cooldown's end, its limits' free time and, when every lease slot is held, the
     * earliest lease end, and the cause is whichever of these decides (on a tie: the cooldown, then the limit, then
     * the leases; full leases are the cause of a secret that is otherwise free now).
     *
     * @param limitsFreeAt when every limit admits a use ({@code now} or earlier if they do now)
     * @param limit the index of the limit that frees last, for {@code limitsFreeAt}
     */
    public static Availability decide(long now, boolean removed, long cooldownUntil, long limitsFreeAt, int limit,
                                      boolean leasesFull, long earliestLeaseEnd) {
        if (removed) {
            return new Availability(Long.MAX_VALUE, REMOVED);
        }
        long freeAt = now;
        int cause = FREE;
        if (cooldownUntil > freeAt) {
            freeAt = cooldownUntil;
            cause = COOLDOWN;
        }
        if (limitsFreeAt > freeAt) {
            freeAt = limitsFreeAt;
            cause = limit;
        }
        if (leasesFull) {
            if (earliestLeaseEnd > freeAt) {
                freeAt = earliestLeaseEnd;
                cause = LEASED;
            } else if (cause == FREE) {
                cause = LEASED;
            }
        }
        return new Availability(freeAt, cause);
    }
}
