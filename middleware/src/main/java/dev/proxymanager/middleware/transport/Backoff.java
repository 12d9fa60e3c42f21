package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter between retries: retry {@code n} (1-based) waits a random time in
 * {@code [d/2, d]} where {@code d = min(backoffBase·2^(n-1), backoffMax)}. The jitter spreads retries of many
 * callers that failed together.
 *
 * <p>This class is threadsafe if its random generator is.
 */
public final class Backoff {

    private final RetryPolicy policy;
    private final RandomGenerator random;

    /** A backoff for {@code policy} drawing jitter from {@code random}. */
    public Backoff(RetryPolicy policy, RandomGenerator random) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * The wait before retry {@code retry}.
     *
     * @throws IllegalArgumentException if {@code retry < 1}
     */
    public Duration delay(int retry) {
        if (retry < 1) {
            throw new IllegalArgumentException("retry must be >= 1, was " + retry);
        }
        long base = policy.backoffBase().toNanos();
        long max = policy.backoffMax().toNanos();
        long d = base;
        for (int i = 1; i < retry && d < max; i++) {
            d = d > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : d * 2;
        }
        d = Math.min(d, max);
        if (d <= 1) {
            return Duration.ofNanos(d);
        }
        long half = d / 2;
        return Duration.ofNanos(half + random.nextLong(d - half + 1));
    }
}
