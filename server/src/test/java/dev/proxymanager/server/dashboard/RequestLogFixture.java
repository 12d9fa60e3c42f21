package dev.proxymanager.server.dashboard;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.Refresh;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.RequestLogEntry;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Realistic request-log documents with known totals, in an index of the test's own with an explicit mapping for
 * the fields the dashboard aggregates (the server's index template is someone else's work).
 *
 * <p>{@link #documents(int, Instant)} spreads {@code n} requests over the {@code n × 9} seconds before {@code now}:
 * endpoints github / twitter / maps in 5:3:2, cache hit 6 / miss 10 / stale 1 / bypass 3 in every 20. Hits and stale
 * answers are calls answered from the cache, as the request log writes them: attempt 0, status 200, no secret, no
 * latency. The upstream attempts (miss, bypass) have, per 25, one timeout without a status, two 429s and one 503,
 * the rest 200; their latencies are in plateaus (per 100 upstream attempts: 55 at 100 ms, 40 at 400 ms, 5 at
 * 2000 ms) so p50, p95 and p99 are unambiguous.
 */
final class RequestLogFixture {
    static final List<String> GITHUB_KEYS = List.of("gh-key-1", "gh-key-2", "gh-key-3");
    static final List<String> TWITTER_KEYS = List.of("tw-key-1", "tw-key-2");
    static final List<String> MAPS_PROXIES = List.of("px-10.0.*.*:8080", "px-10.1.*.*:8080");

    private RequestLogFixture() {
    }

    static void createIndex(ElasticsearchClient client, String index) throws IOException {
        client.indices().create(c -> c
                .index(index)
                .settings(s -> s.numberOfReplicas("0").numberOfShards("1"))
                .mappings(m -> m
                        .properties(LogFields.TIMESTAMP, p -> p.date(d -> d))
                        .properties(LogFields.INSTANCE_ID, p -> p.keyword(k -> k))
                        .properties(LogFields.ENDPOINT, p -> p.keyword(k -> k))
                        .properties(LogFields.METHOD, p -> p.keyword(k -> k))
                        .properties(LogFields.URL, p -> p.keyword(k -> k))
                        .properties(LogFields.HOST, p -> p.keyword(k -> k))
                        .properties(LogFields.SECRET_ID, p -> p.keyword(k -> k))
                        .properties(LogFields.SECRET_TYPE, p -> p.keyword(k -> k))
                        .properties(LogFields.STATUS, p -> p.integer(i -> i))
                        .properties(LogFields.LATENCY_MS, p -> p.long_(l -> l))
                        .properties(LogFields.BYTES, p -> p.long_(l -> l))
                        .properties(LogFields.CACHE, p -> p.keyword(k -> k))
                        .properties(LogFields.ATTEMPT, p -> p.integer(i -> i))
                        .properties(LogFields.OUTCOME, p -> p.keyword(k -> k))
                        .properties(LogFields.ERROR_TYPE, p -> p.keyword(k -> k))
                        .properties(LogFields.EVENT, p -> p.keyword(k -> k))
                        .properties(LogFields.EVENT_REASON, p -> p.keyword(k -> k))
                        .properties(LogFields.COOLDOWN_UNTIL, p -> p.date(d -> d))
                        .properties(LogFields.SCHEMA_VERSION, p -> p.integer(i -> i))));
    }

    static List<Map<String, Object>> documents(int n, Instant now) {
        List<Map<String, Object>> docs = new ArrayList<>(n);
        int upstreamAttempts = 0;
        for (int i = 0; i < n; i++) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put(LogFields.TIMESTAMP, now.minusSeconds(9L * (n - i)).toString());
            doc.put(LogFields.INSTANCE_ID, "server-1");
            doc.put(LogFields.SCHEMA_VERSION, RequestLogEntry.SCHEMA_VERSION);
            doc.put(LogFields.METHOD, "GET");
            String endpoint = endpoint(i);
            doc.put(LogFields.ENDPOINT, endpoint);
            switch (endpoint) {
                case "github" -> {
                    doc.put(LogFields.HOST, "api.github.com");
                    doc.put(LogFields.URL, "https://api.github.com/repos/o/r/issues?page=" + i);
                    doc.put(LogFields.SECRET_TYPE, "key");
                }
                case "twitter" -> {
                    doc.put(LogFields.HOST, "api.twitter.com");
                    doc.put(LogFields.URL, "https://api.twitter.com/2/tweets/" + i);
                    doc.put(LogFields.SECRET_TYPE, "key");
                }
                default -> {
                    doc.put(LogFields.HOST, "maps.example.org");
                    doc.put(LogFields.URL, "https://maps.example.org/geocode?q=" + i);
                    doc.put(LogFields.SECRET_TYPE, "proxy");
                }
            }
            doc.put(LogFields.CACHE, cache(i));
            if (fromCache(i)) {
                doc.put(LogFields.ATTEMPT, 0);
                doc.put(LogFields.OUTCOME, "success");
                doc.put(LogFields.STATUS, 200);
                doc.put(LogFields.BYTES, 512 + i);
                docs.add(doc);
                continue;
            }
            doc.put(LogFields.SECRET_ID, secretId(i));
            doc.put(LogFields.ATTEMPT, 1);
            String outcome = outcome(i);
            doc.put(LogFields.OUTCOME, outcome);
            Integer status = status(i);
            if (status != null) {
                doc.put(LogFields.STATUS, status);
                doc.put(LogFields.BYTES, 512 + i);
            } else {
                doc.put(LogFields.ERROR_TYPE, "read_timeout");
            }
            doc.put(LogFields.LATENCY_MS, latency(upstreamAttempts++));
            docs.add(doc);
        }
        return docs;
    }

    static void index(ElasticsearchClient client, String index, List<Map<String, Object>> docs) throws IOException {
        BulkResponse response = client.bulk(b -> {
            b.index(index).refresh(Refresh.True);
            for (Map<String, Object> doc : docs) {
                b.operations(op -> op.index(ix -> ix.document(doc)));
            }
            return b;
        });
        if (response.errors()) {
            throw new IllegalStateException("bulk indexing failed: " + response.items().stream()
                    .filter(item -> item.error() != null).findFirst().map(item -> item.error().reason()).orElse("?"));
        }
    }

    /** Counts per value of {@code field} in {@code docs}, the expected answer of a terms aggregation. */
    static Map<String, Long> countBy(List<Map<String, Object>> docs, String field) {
        Map<String, Long> counts = new TreeMap<>();
        for (Map<String, Object> doc : docs) {
            Object value = doc.get(field);
            if (value != null) {
                counts.merge(value.toString(), 1L, Long::sum);
            }
        }
        return counts;
    }

    static String endpoint(int i) {
        int m = i % 10;
        return m < 5 ? "github" : m < 8 ? "twitter" : "maps";
    }

    static String secretId(int i) {
        return switch (endpoint(i)) {
            case "github" -> GITHUB_KEYS.get(i % GITHUB_KEYS.size());
            case "twitter" -> TWITTER_KEYS.get(i % TWITTER_KEYS.size());
            default -> MAPS_PROXIES.get(i % MAPS_PROXIES.size());
        };
    }

    /** Answered from the cache (hit or stale): not an upstream attempt. */
    static boolean fromCache(int i) {
        return cache(i).equals("hit") || cache(i).equals("stale");
    }

    /** The statuses of upstream attempts, as the dashboard counts them ("no response" for none). */
    static Map<String, Long> upstreamStatuses(List<Map<String, Object>> docs) {
        Map<String, Long> counts = new TreeMap<>();
        for (Map<String, Object> doc : docs) {
            if (!doc.get(LogFields.ATTEMPT).equals(0) && doc.get(LogFields.EVENT) == null) {
                Object status = doc.get(LogFields.STATUS);
                counts.merge(status == null ? "no response" : status.toString(), 1L, Long::sum);
            }
        }
        return counts;
    }

    static String cache(int i) {
        int m = i % 20;
        return m < 6 ? "hit" : m < 16 ? "miss" : m == 16 ? "stale" : "bypass";
    }

    static Integer status(int i) {
        int m = i % 25;
        return m == 0 ? null : m <= 2 ? Integer.valueOf(429) : m == 3 ? Integer.valueOf(503) : Integer.valueOf(200);
    }

    static String outcome(int i) {
        int m = i % 25;
        return m == 0 ? "timeout" : m <= 2 ? "rate_limited" : m == 3 ? "failure" : "success";
    }

    /** The latency of the {@code u}-th upstream attempt. */
    static long latency(int u) {
        int m = u % 100;
        return m < 55 ? 100 : m < 95 ? 400 : 2000;
    }
}
