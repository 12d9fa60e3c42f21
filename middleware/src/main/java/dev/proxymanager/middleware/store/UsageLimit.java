package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;

/**
 * A limit in the store's units: at most {@code requests} uses per {@code perNanos}; reaching it starts a cooldown
 * of {@code cooldownNanos} when positive. A use frees its slot {@link #spacingNanos()} after it: the window plus the
 * guard band {@code marginNanos}. Immutable and threadsafe.
 */
public record UsageLimit(int requests, long perNanos, long cooldownNanos, long marginNanos) {

    public UsageLimit {
        if (requests <= 0 || perNanos <= 0 || cooldownNanos < 0 || marginNanos < 0) {
            throw new IllegalArgumentException("limit must have requests > 0, per > 0, cooldown >= 0, margin >= 0; was "
                    + requests + ", " + perNanos + " ns, " + cooldownNanos + " ns, " + marginNanos + " ns");
        }
    }

    /** A limit without guard band. */
    public UsageLimit(int requests, long perNanos, long cooldownNanos) {
        this(requests, perNanos, cooldownNanos, 0);
    }

    /** The store form of a configured limit with the endpoint's guard band. */
    public static UsageLimit of(LimitConfig c, LimitMargin margin) {
        long per = c.per().toNanos();
        return new UsageLimit(c.requests(), per, c.cooldown().toNanos(), margin.nanosFor(per));
    }

    /**
     * How far apart a use and the use that takes its slot are at least: window plus margin, rounded up to whole
     * microseconds (the Redis store computes in microseconds, and both stores must decide alike).
     */
    public long spacingNanos() {
        long s = perNanos + marginNanos;
        if (s < 0) {
            return Long.MAX_VALUE / 2;
        }
        return (s + 999) / 1000 * 1000;
    }
}
