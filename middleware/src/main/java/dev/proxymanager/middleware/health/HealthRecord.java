package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.limit.SlidingWindowLog;

/**
 * One secret's success record in this process: totals, consecutive failures and bans, and recent failure times.
 * Feeds the health rules and Thompson sampling. This class is <em>not</em> threadsafe; the engine guards it.
 */
public final class HealthRecord {

    long successes;
    long failures;
    int consecutiveFailures;
    int consecutiveBans;
    final SlidingWindowLog recentFailures;

    /** A record whose failure window keeps {@code windowFailures} failure times. */
    public HealthRecord(int windowFailures) {
        this.recentFailures = new SlidingWindowLog(windowFailures);
    }

    /** Successful outcomes so far. */
    public long successes() {
        return successes;
    }

    /** Failed outcomes so far. */
    public long failures() {
        return failures;
    }

    /** Failures since the last success. */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Seed D's {@code success_delta}: successes minus failures. */
    public long successDelta() {
        return successes - failures;
    }

    /** Adapts the failure window to a changed policy, keeping the newest failures. */
    public void resizeWindow(int windowFailures) {
        if (recentFailures.capacity() != windowFailures) {
            recentFailures.resize(windowFailures);
        }
    }
}
