package dev.proxymanager.middleware.clock;

import java.time.Duration;

/**
 * Waits: between retries, and for a secret to free up. Injectable so tests make time pass with a
 * {@link FakeClock} ({@code d -> clock.advance(d)}) instead of sleeping.
 */
@FunctionalInterface
public interface Sleeper {

    /** Waits {@code duration}; returns at once for zero or negative durations. */
    void sleep(Duration duration) throws InterruptedException;

    /** The real thing: {@link Thread#sleep(Duration)}. */
    static Sleeper system() {
        return d -> {
            if (d.isPositive()) {
                Thread.sleep(d);
            }
        };
    }
}
