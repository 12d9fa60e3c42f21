package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;

/**
 * A call costs more uses than a limit that counts it allows in a whole window, so no secret could ever be granted
 * for it; thrown before any store call. A caller's error, not an outcome to wait for.
 */
public final class CostTooLargeException extends IllegalArgumentException {

    private final int cost;
    private final transient LimitConfig limit;

    CostTooLargeException(String endpoint, int cost, LimitConfig limit, String whose) {
        super("a call costing " + cost + " uses can never be granted on endpoint '" + endpoint + "': "
                + whose + limit.describe() + " counts it");
        this.cost = cost;
        this.limit = limit;
    }

    /** The call's cost. */
    public int cost() {
        return cost;
    }

    /** The limit it exceeds. */
    public LimitConfig limit() {
        return limit;
    }
}
