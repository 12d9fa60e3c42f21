package dev.proxymanager.server.dashboard;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the request log says about one {@link HistoryRange}: the numbers behind every history panel of the
 * dashboard. Maps keep the order the source gave (largest first for counts). Instances are immutable. This class
 * is threadsafe.
 *
 * @param range the span the report covers
 * @param totalRequests request-log documents in the span
 * @param buckets start of each time bucket, oldest first, covering the whole span
 * @param requestsByEndpoint per endpoint, a count per bucket (same length and order as {@code buckets})
 * @param latencyOverTime per bucket, its latency percentiles (same length and order as {@code buckets})
 * @param cache count per {@code cache} value ({@code hit}, {@code miss}, {@code bypass}, {@code stale})
 * @param statuses count per upstream HTTP status, as text ({@code "200"})
 * @param noResponse requests without a status (no response came)
 * @param outcomes count per {@code outcome} value ({@code success}, {@code rate_limited}, …)
 * @param latency latency percentiles over the whole span
 * @param requestsBySecret count per secret id, largest first (the top secrets only)
 * @param eventsOverTime per secret state change ({@code cooldown}, {@code ban}, {@code removed}, {@code restored}),
 *                       a count per bucket (same length and order as {@code buckets}); event documents are not
 *                       requests and count nowhere else
 * @param requestsByHost count per target host, largest first (the busiest hosts only)
 * @param bansByHost count of {@code banned} outcomes per target host, largest first: per-site bans
 */
public record HistoryReport(HistoryRange range, long totalRequests, List<Instant> buckets,
                            Map<String, List<Long>> requestsByEndpoint, List<LatencyPercentiles> latencyOverTime,
                            Map<String, Long> cache, Map<String, Long> statuses, long noResponse,
                            Map<String, Long> outcomes, LatencyPercentiles latency,
                            Map<String, Long> requestsBySecret, Map<String, List<Long>> eventsOverTime,
                            Map<String, Long> requestsByHost, Map<String, Long> bansByHost) {

    public HistoryReport {
        Objects.requireNonNull(range, "range");
        buckets = List.copyOf(buckets);
        requestsByEndpoint = copyOrdered(requestsByEndpoint);
        requestsByEndpoint.replaceAll((endpoint, counts) -> List.copyOf(counts));
        requestsByEndpoint = Collections.unmodifiableMap(requestsByEndpoint);
        latencyOverTime = List.copyOf(latencyOverTime);
        cache = Collections.unmodifiableMap(copyOrdered(cache));
        statuses = Collections.unmodifiableMap(copyOrdered(statuses));
        outcomes = Collections.unmodifiableMap(copyOrdered(outcomes));
        Objects.requireNonNull(latency, "latency");
        requestsBySecret = Collections.unmodifiableMap(copyOrdered(requestsBySecret));
        eventsOverTime = copyOrdered(eventsOverTime);
        eventsOverTime.replaceAll((event, counts) -> List.copyOf(counts));
        eventsOverTime = Collections.unmodifiableMap(eventsOverTime);
        checkSeries("requestsByEndpoint", requestsByEndpoint, buckets.size());
        checkSeries("eventsOverTime", eventsOverTime, buckets.size());
        requestsByHost = Collections.unmodifiableMap(copyOrdered(requestsByHost));
        bansByHost = Collections.unmodifiableMap(copyOrdered(bansByHost));
        if (latencyOverTime.size() != buckets.size()) {
            throw new IllegalArgumentException("latencyOverTime must have " + buckets.size() + " entries, was "
                    + latencyOverTime.size());
        }
    }

    private static void checkSeries(String name, Map<String, List<Long>> series, int buckets) {
        for (Map.Entry<String, List<Long>> s : series.entrySet()) {
            if (s.getValue().size() != buckets) {
                throw new IllegalArgumentException(name + "." + s.getKey() + " must have " + buckets
                        + " counts, was " + s.getValue().size());
            }
        }
    }

    /** A report without per-host counts. */
    public HistoryReport(HistoryRange range, long totalRequests, List<Instant> buckets,
                         Map<String, List<Long>> requestsByEndpoint, List<LatencyPercentiles> latencyOverTime,
                         Map<String, Long> cache, Map<String, Long> statuses, long noResponse,
                         Map<String, Long> outcomes, LatencyPercentiles latency, Map<String, Long> requestsBySecret,
                         Map<String, List<Long>> eventsOverTime) {
        this(range, totalRequests, buckets, requestsByEndpoint, latencyOverTime, cache, statuses, noResponse, outcomes,
                latency, requestsBySecret, eventsOverTime, Map.of(), Map.of());
    }

    private static <V> Map<String, V> copyOrdered(Map<String, V> map) {
        return new LinkedHashMap<>(Objects.requireNonNull(map));
    }
}
