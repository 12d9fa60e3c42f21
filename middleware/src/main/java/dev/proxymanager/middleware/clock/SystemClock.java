package dev.proxymanager.middleware.clock;

import java.time.Instant;

/**
 * The system clock: {@link System#nanoTime()} anchored once to the wall clock at class load, so readings are
 * monotonic and close to epoch time. This class is threadsafe.
 */
public final class SystemClock implements Clock {

    /** The single instance. */
    public static final SystemClock INSTANCE = new SystemClock();

    // Anchor once: later wall-clock jumps (NTP) must not move windows or cooldowns.
    private final long epochNanosAtStart = Clock.toNanos(Instant.now());
    private final long nanoTimeAtStart = System.nanoTime();

    private SystemClock() {
    }

    @Override
    public long nanoTime() {
        return epochNanosAtStart + (System.nanoTime() - nanoTimeAtStart);
    }

    @Override
    public Instant now() {
        return Clock.toInstant(nanoTime());
    }

    @Override
    public String toString() {
        return "SystemClock";
    }
}
