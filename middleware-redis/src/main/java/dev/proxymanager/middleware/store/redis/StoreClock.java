package dev.proxymanager.middleware.store.redis;

/**
 * How far the store's clock (Redis's {@code TIME}) is ahead of the caller's, learnt from each script answer. A sample
 * is the true offset plus the delay between the caller reading its clock and the script running, so the estimate is
 * the smallest sample of the last one to two seconds: close to the true offset, and following a clock that jumps
 * within two seconds. Races between callers only pick a slightly older sample. This class is threadsafe.
 */
final class StoreClock {

    private static final long PERIOD_NANOS = 1_000_000_000L;

    private volatile long offset;
    private volatile long currentMin = Long.MAX_VALUE;
    private volatile long previousMin = Long.MAX_VALUE;
    private volatile long periodStart = Long.MIN_VALUE;

    /** The current estimate: add it to a caller's time to get the store's; 0 before any sample. */
    long offset() {
        return offset;
    }

    /**
     * Adds a sample taken at the caller's {@code callerNow}.
     *
     * @return the estimate afterwards
     */
    long sample(long sample, long callerNow) {
        if (periodStart == Long.MIN_VALUE || callerNow - periodStart >= PERIOD_NANOS) {
            previousMin = currentMin;
            currentMin = sample;
            periodStart = callerNow;
        } else if (sample < currentMin) {
            currentMin = sample;
        }
        long estimate = Math.min(currentMin, previousMin);
        offset = estimate;
        return estimate;
    }
}
