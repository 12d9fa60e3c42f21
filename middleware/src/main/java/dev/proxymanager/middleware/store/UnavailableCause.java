package dev.proxymanager.middleware.store;

import java.util.Locale;

/**
 * Why a secret cannot be handed out now — or {@link #READY} when it can. The one vocabulary the stores
 * ({@link Availability}), the engine's denials and stats, the server's {@code /api/v1/proxies} and the dashboard
 * share; {@link #AT_LIMIT} comes with the index of the limit that binds.
 */
public enum UnavailableCause {
    /** Can be handed out now. */
    READY,
    /** A sliding-window limit is reached; see the binding limit. */
    AT_LIMIT,
    /** Cooling down after failures, a ban, a Retry-After or a usage cap. */
    COOLING_DOWN,
    /** Every lease slot is held (exclusive or shared leases). */
    LEASED,
    /** Out of rotation until restored. */
    REMOVED,
    /** The shared usage store is unreachable and the configured mode is fail-closed. */
    STORE_UNAVAILABLE,
    /** The usage store answered with an error that is not an outage (e.g. a script error); limits are never skipped. */
    STORE_FAILED;

    /** The lower-case name used in JSON and on the dashboard, e.g. {@code at_limit}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
