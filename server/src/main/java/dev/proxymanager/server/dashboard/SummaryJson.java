package dev.proxymanager.server.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.rotation.SecretStats;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes {@code /dashboard/api/summary}: the wire format the page's script reads. Times are epoch milliseconds,
 * latencies milliseconds, ratios 0–1 (or null when undefined). This class is threadsafe.
 */
final class SummaryJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SummaryJson() {
    }

    /**
     * @param report the history, or null when it is unavailable (then {@code historyError} says why)
     * @param secrets the live state, or null when the engine could not report it (then {@code secretsError})
     */
    static byte[] write(Instant generatedAt, String rangeName, HistoryRange range, Duration refresh,
                        HistoryReport report, String historyError, List<SecretStatus> secrets, String secretsError) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("generatedAt", generatedAt.toEpochMilli());
        root.put("refreshMillis", refresh.toMillis());
        ObjectNode rangeNode = root.putObject("range");
        rangeNode.put("name", rangeName);
        rangeNode.put("from", range.from().toEpochMilli());
        rangeNode.put("to", range.to().toEpochMilli());
        rangeNode.put("bucketMillis", range.bucket().toMillis());

        ObjectNode history = root.putObject("history");
        history.put("available", report != null);
        if (report == null) {
            history.put("error", historyError);
        } else {
            writeHistory(history, report);
        }

        ObjectNode live = root.putObject("live");
        live.put("available", secrets != null);
        if (secrets == null) {
            live.put("error", secretsError);
        } else {
            Map<String, Long> requested = report == null ? Map.of() : report.requestsBySecret();
            ArrayNode rows = live.putArray("secrets");
            for (SecretStatus s : secrets) {
                ObjectNode row = rows.addObject();
                row.put("endpoint", s.endpoint());
                row.put("secretId", s.secretId());
                row.put("state", s.cause().wireName());
                row.put("usesInWindow", s.usesInWindow());
                row.put("limit", s.limit());
                if (s.limited()) {
                    row.put("windowSeconds", s.window().toSeconds());
                } else {
                    row.putNull("windowSeconds");
                }
                putUpstream(row, s.upstream());
                ArrayNode routes = row.putArray("routes");
                for (SecretStatus.RouteWindow r : s.routes()) {
                    ObjectNode rw = routes.addObject();
                    rw.put("match", r.match());
                    rw.put("uses", r.uses());
                    rw.put("limit", r.limit());
                    rw.put("windowSeconds", r.window().toSeconds());
                    putUpstream(rw, r.upstream());
                }
                Long inRange = requested.get(s.secretId());
                if (inRange == null) {
                    row.putNull("requestsInRange");
                } else {
                    row.put("requestsInRange", inRange);
                }
            }
        }
        try {
            return MAPPER.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("summary JSON could not be written", e);
        }
    }

    private static void putUpstream(ObjectNode node, SecretStats.UpstreamQuotaView q) {
        if (q == null) {
            node.putNull("upstream");
        } else {
            ObjectNode up = node.putObject("upstream");
            up.put("policy", q.policy());
            up.put("limit", q.limit());
            up.put("remaining", q.remaining());
            up.put("reset", q.resetAt().toString());
        }
    }

    private static void writeHistory(ObjectNode history, HistoryReport report) {
        history.put("totalRequests", report.totalRequests());
        ArrayNode buckets = history.putArray("buckets");
        report.buckets().forEach(b -> buckets.add(b.toEpochMilli()));
        ArrayNode series = history.putArray("requestsByEndpoint");
        report.requestsByEndpoint().forEach((endpoint, counts) -> {
            ObjectNode s = series.addObject();
            s.put("endpoint", endpoint);
            ArrayNode values = s.putArray("counts");
            counts.forEach(values::add);
        });
        ObjectNode latencyOverTime = history.putObject("latencyOverTime");
        writeSeries(latencyOverTime, "p50", report.latencyOverTime(), LatencyPercentiles::p50);
        writeSeries(latencyOverTime, "p95", report.latencyOverTime(), LatencyPercentiles::p95);
        writeSeries(latencyOverTime, "p99", report.latencyOverTime(), LatencyPercentiles::p99);
        ObjectNode latency = history.putObject("latency");
        putNullable(latency, "p50", report.latency().p50());
        putNullable(latency, "p95", report.latency().p95());
        putNullable(latency, "p99", report.latency().p99());

        writeCounts(history.putArray("cache"), report.cache());
        long hit = report.cache().getOrDefault("hit", 0L);
        long lookups = hit + report.cache().getOrDefault("miss", 0L) + report.cache().getOrDefault("stale", 0L);
        putNullable(history, "cacheHitRatio", lookups == 0 ? null : (double) hit / lookups);
        writeCounts(history.putArray("statuses"), report.statuses());
        history.put("noResponse", report.noResponse());
        writeCounts(history.putArray("outcomes"), report.outcomes());
        long failed = report.outcomes().entrySet().stream()
                .filter(e -> !e.getKey().equals("success"))
                .mapToLong(Map.Entry::getValue).sum();
        history.put("failedRequests", failed);
        writeCounts(history.putArray("requestsBySecret"), report.requestsBySecret());
        ArrayNode events = history.putArray("eventsOverTime");
        report.eventsOverTime().forEach((event, counts) -> {
            ObjectNode s = events.addObject();
            s.put("event", event);
            ArrayNode values = s.putArray("counts");
            counts.forEach(values::add);
        });
        writeCounts(history.putArray("requestsByHost"), report.requestsByHost());
        writeCounts(history.putArray("bansByHost"), report.bansByHost());
    }

    private static void writeSeries(ObjectNode parent, String name, List<LatencyPercentiles> values,
                                    Function<LatencyPercentiles, Double> component) {
        ArrayNode array = parent.putArray(name);
        for (LatencyPercentiles v : values) {
            Double d = component.apply(v);
            if (d == null) {
                array.addNull();
            } else {
                array.add(d);
            }
        }
    }

    private static void writeCounts(ArrayNode array, Map<String, Long> counts) {
        counts.forEach((key, count) -> array.addObject().put("key", key).put("count", count));
    }

    private static void putNullable(ObjectNode node, String field, Double value) {
        if (value == null) {
            node.putNull(field);
        } else {
            node.put(field, value);
        }
    }
}
