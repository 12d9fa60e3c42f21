package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The project's one exponential backoff: attempt {@code n} (1-based) waits {@code d = min(base·2^(n-1), max)},
 * saturating instead of overflowing. With a random generator the wait is drawn from {@code [d/2, d]}, which spreads
 * the retries of many callers that failed together; without one it is exactly {@code d}. Used for request retries,
 * {@link dev.proxymanager.middleware.backend.BackendGate backend probes} and health bans.
 *
 * <p>This class is threadsafe if its random generator is.
 */
public final class Backoff {

    private final long baseNanos;
    private final long maxNanos;
    private final RandomGenerator random;

    private Backoff(Duration base, Duration max, RandomGenerator random) {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(max, "max");
        if (base.isNegative() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff must be 0 <= base <= max, was base=" + base + ", max=" + max);
        }
        this.baseNanos = base.toNanos();
        this.maxNanos = max.toNanos();
        this.random = random;
    }

    /** A backoff for {@code policy} drawing jitter from {@code random}. */
    public Backoff(RetryPolicy policy, RandomGenerator random) {
        this(Objects.requireNonNull(policy, "policy").backoffBase(), policy.backoffMax(),
                Objects.requireNonNull(random, "random"));
    }

    /**
     * A backoff without jitter from {@code base}, doubling, up to {@code max}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= base <= max}
     */
    public static Backoff exponential(Duration base, Duration max) {
        return new Backoff(base, max, null);
    }

    /** The same wait after every attempt. */
    public static Backoff constant(Duration interval) {
        return new Backoff(interval, interval, null);
    }

    /**
     * The wait before attempt {@code attempt}, jittered when this backoff has a random generator.
     *
     * @throws IllegalArgumentException if {@code attempt < 1}
     */
    public Duration delay(int attempt) {
        return Duration.ofNanos(delayNanos(attempt));
    }

    /** As {@link #delay}, in nanoseconds. */
    public long delayNanos(int attempt) {
        long d = ceilingNanos(attempt);
        if (random == null || d <= 1) {
            return d;
        }
        long half = d / 2;
        return half + random.nextLong(d - half + 1);
    }

    /**
     * The longest wait before attempt {@code attempt}: {@code min(base·2^(attempt-1), max)}, without jitter.
     *
     * @throws IllegalArgumentException if {@code attempt < 1}
     */
    public long ceilingNanos(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, was " + attempt);
        }
        int shift = Math.min(attempt - 1, 62);
        long d = baseNanos > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : baseNanos << shift;
        return Math.min(d, maxNanos);
    }

    /** The first attempt's ceiling. */
    public long baseNanos() {
        return baseNanos;
    }
}
