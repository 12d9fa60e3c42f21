package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.config.LimitConfig;

/**
 * A limit in the store's units: at most {@code requests} uses per {@code perNanos}; reaching it starts a cooldown
 * of {@code cooldownNanos} when positive. Immutable and threadsafe.
 */
public record UsageLimit(int requests, long perNanos, long cooldownNanos) {

    public UsageLimit {
        if (requests <= 0 || perNanos <= 0 || cooldownNanos < 0) {
            throw new IllegalArgumentException("limit must have requests > 0, per > 0, cooldown >= 0; was "
                    + requests + ", " + perNanos + " ns, " + cooldownNanos + " ns");
        }
    }

    /** The store form of a configured limit. */
    public static UsageLimit of(LimitConfig c) {
        return new UsageLimit(c.requests(), c.per().toNanos(), c.cooldown().toNanos());
    }
}
