package dev.proxymanager.middleware.health;

/**
 * What the health rules decided for one outcome. Immutable and threadsafe.
 *
 * @param failure whether the outcome counted as a failure
 * @param cooldownUntil end of a cooldown to start (clock nanos), or 0 for none
 * @param remove whether to take the secret out of rotation
 * @param ban whether the outcome was a ban signal (status in ban_statuses, or a connection error)
 * @param reason why, for events and logs ({@code null} when nothing happens)
 */
public record HealthVerdict(boolean failure, long cooldownUntil, boolean remove, boolean ban, String reason) {

    /** A success, or an unused secret: nothing happens. */
    public static final HealthVerdict NOTHING = new HealthVerdict(false, 0, false, false, null);
}
