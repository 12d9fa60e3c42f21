package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the transport retries a failed attempt (on another secret): up to {@code maxRetries} retries, waiting
 * {@code backoffBase·2^n} capped at {@code backoffMax}; non-idempotent methods only when {@code retryNonIdempotent}.
 * Defaults: 2 retries, 200 ms, 5 s, false; at most 10 retries. Immutable and threadsafe.
 */
public record RetryPolicy(int maxRetries, Duration backoffBase, Duration backoffMax, boolean retryNonIdempotent) {

    /** 2 retries, 200 ms base, 5 s cap, idempotent methods only. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(2, Duration.ofMillis(200), Duration.ofSeconds(5), false);

    public RetryPolicy {
        Objects.requireNonNull(backoffBase, "backoffBase");
        Objects.requireNonNull(backoffMax, "backoffMax");
        SettingDefinitions.RETRY_MAX_RETRIES.check(maxRetries);
        SettingDefinitions.RETRY_BACKOFF_BASE.check(backoffBase);
        SettingDefinitions.RETRY_BACKOFF_MAX.check(backoffMax);
        if (backoffMax.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException("backoff_max must be >= backoff_base (" + Durations.format(backoffBase)
                    + "), was " + Durations.format(backoffMax));
        }
    }
}
