package dev.proxymanager.middleware.config;

/** How the engine picks among the secrets of an endpoint that are free right now. */
public enum RotationMethod {
    /** The secret with the fewest uses (the default). */
    LEAST_USED("least-used"),
    /** Each secret in turn. */
    ROUND_ROBIN("round-robin"),
    /** Keep one secret for {@code rotation_interval}, then move to the next. */
    TIME_BASED("time-based"),
    /** Round-robin among the secrets under their limits (the limits always apply; this names seed C's mode). */
    RATE_LIMITED("rate-limited"),
    /** Thompson sampling on each secret's success record: secrets that succeed more get more traffic. */
    HEALTH_WEIGHTED("health-weighted");

    private final String jsonName;

    RotationMethod(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The name used in secrets.json. */
    public String jsonName() {
        return jsonName;
    }
}
