package dev.proxymanager.server.loadtest;

import java.time.Duration;
import java.util.Map;

/**
 * The result of a {@link LoadTest} run.
 *
 * @param total requests sent
 * @param succeeded requests answered 2xx or 3xx
 * @param elapsed wall time of the run
 * @param p50 median latency
 * @param p95 95th percentile latency
 * @param p99 99th percentile latency
 * @param max slowest request
 * @param statuses answers by status code (0 = no answer: timeout or connection error)
 * @param errors failures without an answer, by exception type
 */
public record LoadTestReport(int total, int succeeded, Duration elapsed, Duration p50, Duration p95, Duration p99,
                             Duration max, Map<Integer, Integer> statuses, Map<String, Integer> errors) {

    /** Succeeded / total, 0–1. */
    public double successRate() {
        return total == 0 ? 0 : (double) succeeded / total;
    }

    /** Requests completed per second. */
    public double throughput() {
        return total / Math.max(1e-9, elapsed.toNanos() / 1e9);
    }

    /** The printed summary. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, """
                requests:     %d (%d succeeded)
                success rate: %.2f %%
                throughput:   %.1f requests/s over %.2f s
                latency:      p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms
                statuses:     %s
                errors:       %s
                """, total, succeeded, successRate() * 100, throughput(), elapsed.toNanos() / 1e9,
                p50.toNanos() / 1e6, p95.toNanos() / 1e6, p99.toNanos() / 1e6, max.toNanos() / 1e6, statuses,
                errors.isEmpty() ? "none" : errors);
    }
}
