package dev.proxymanager.server.dashboard;

import java.util.Locale;

/** Where a secret (API key or proxy) stands in the rotation engine right now, as the dashboard shows it. */
public enum SecretState {
    /** Under its limit and free to be handed out. */
    READY,
    /** Held exclusively by a task (a proxy lease). */
    LEASED,
    /** At its limit, failing or banned: out of rotation until its cooldown ends. */
    COOLING_DOWN,
    /** Taken out of the pool (unhealthy or removed from the configuration). */
    REMOVED;

    /** The lower-case name used in the summary JSON, e.g. {@code cooling_down}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
