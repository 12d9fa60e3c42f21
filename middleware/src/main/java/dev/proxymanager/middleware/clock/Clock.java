package dev.proxymanager.middleware.clock;

import java.time.Instant;

/**
 * The one source of time for the rotation engine: a monotonic ticker for windows, leases and cooldowns, and the
 * wall time for timestamps that are stored or shown.
 *
 * <p>Both readings sit on one timeline: {@link #nanoTime()} counts nanoseconds since the Unix epoch (so processes
 * that share a usage store agree on it within their clock skew), and {@link #now()} is the same instant as an
 * {@link Instant}. Implementations must be threadsafe.
 */
public interface Clock {

    /** Monotonic nanoseconds since the Unix epoch; never goes backwards within one process. */
    long nanoTime();

    /** The wall time for stored timestamps; consistent with {@link #nanoTime()}. */
    Instant now();

    /**
     * This clock as a {@link java.time.Clock} (UTC), for libraries that take one (Resilience4j); the only adapter
     * between the two, so a {@link FakeClock} moves them too.
     */
    default java.time.Clock asJavaClock() {
        return new JavaTimeClock(this, java.time.ZoneOffset.UTC);
    }

    /** The clock of the running system. */
    static Clock system() {
        return SystemClock.INSTANCE;
    }

    /** Converts a {@link #nanoTime()} reading to an {@link Instant}. */
    static Instant toInstant(long epochNanos) {
        return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }

    /** {@code time + nanos} on this timeline, saturating at {@link Long#MAX_VALUE} ("never") on overflow. */
    static long plus(long time, long nanos) {
        long sum = time + nanos;
        return ((time ^ sum) & (nanos ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** Converts an {@link Instant} to the {@link #nanoTime()} timeline; saturates outside years 1678–2262. */
    static long toNanos(Instant instant) {
        try {
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
        } catch (ArithmeticException e) {
            return instant.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
