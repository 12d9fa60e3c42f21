package dev.proxymanager.middleware.clock;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that only moves when told to, for deterministic tests of windows, leases and cooldowns.
 * Starts at {@link #DEFAULT_START} (2026-01-01T00:00:00Z) unless given another instant. This class is threadsafe.
 */
public final class FakeClock implements Clock {

    /** Where a clock made with {@link #FakeClock()} starts. */
    public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

    private final AtomicLong nanos;

    /** A clock at {@link #DEFAULT_START}. */
    public FakeClock() {
        this(DEFAULT_START);
    }

    /** A clock at {@code start}. */
    public FakeClock(Instant start) {
        this.nanos = new AtomicLong(Clock.toNanos(Objects.requireNonNull(start, "start")));
    }

    /**
     * Moves the clock forward.
     *
     * @throws IllegalArgumentException if {@code amount} is negative (time never goes back)
     */
    public FakeClock advance(Duration amount) {
        Objects.requireNonNull(amount, "amount");
        if (amount.isNegative()) {
            throw new IllegalArgumentException("a fake clock only moves forward, advance was " + amount);
        }
        nanos.addAndGet(amount.toNanos());
        return this;
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public Instant now() {
        return Clock.toInstant(nanos.get());
    }

    @Override
    public String toString() {
        return "FakeClock[" + now() + "]";
    }
}
