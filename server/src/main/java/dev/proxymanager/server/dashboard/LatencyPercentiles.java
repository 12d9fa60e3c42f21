package dev.proxymanager.server.dashboard;

/**
 * Latency percentiles in milliseconds; a component is {@code null} when no request in the span had a latency.
 *
 * @param p50 median
 * @param p95 95th percentile
 * @param p99 99th percentile
 */
public record LatencyPercentiles(Double p50, Double p95, Double p99) {

    /** No latencies at all. */
    public static final LatencyPercentiles NONE = new LatencyPercentiles(null, null, null);
}
