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
}
