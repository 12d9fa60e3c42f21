package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the transport retries a failed attempt (on another secret): up to {@code maxRetries} retries, waiting
 * {@code backoffBase·2^n} capped at {@code backoffMax}; non-idempotent methods only when {@code retryNonIdempotent}.
 * Defaults: 2 retries, 200 ms, 5 s, false. Immutable and threadsafe.
 */
public record RetryPolicy(int maxRetries, Duration backoffBase, Duration backoffMax, boolean retryNonIdempotent) {

    /** 2 retries, 200 ms base, 5 s cap, idempotent methods only. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(2, Duration.ofMillis(200), Duration.ofSeconds(5), false);

    public RetryPolicy {
        Objects.requireNonNull(backoffBase, "backoffBase");
        Objects.requireNonNull(backoffMax, "backoffMax");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("max_retries must be >= 0, was " + maxRetries);
        }
        if (backoffBase.isNegative() || backoffMax.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException("backoff_max must be >= backoff_base >= 0, was " + backoffBase
                    + " and " + backoffMax);
        }
    }
}
