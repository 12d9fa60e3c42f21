package dev.proxymanager.middleware.bench;

import dev.proxymanager.middleware.health.OutcomeKind;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkIngester;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkListener;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.cache.CacheMode;
import dev.proxymanager.middleware.cache.CachePolicy;
import dev.proxymanager.middleware.cache.CacheResult;
import dev.proxymanager.middleware.cache.CacheStatus;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.cache.ElasticsearchCacheStore;
import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.cache.Upstream;
import dev.proxymanager.middleware.elastic.ElasticsearchClients;
import dev.proxymanager.middleware.elastic.IndexTemplates;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.monitor.elasticsearch.LocalElasticsearch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures, against one real Elasticsearch node and in one run:
 * <ol>
 *   <li>a cache hit through {@link ResponseCache#fetch} (key built from the request, one real-time get, document
 *       parsed) against a raw real-time {@code get} of the same document with the same client — interleaved in
 *       rounds so both see the same node state; target: median ratio ≤ 1.3;</li>
 *   <li>request-log shipping: documents per second from {@link ElasticsearchRequestLog#record} until all are
 *       acknowledged by the node, and the caller's cost per {@code record}; target ≥ 20 000 documents/s.</li>
 * </ol>
 * Uses {@code ELASTICSEARCH_URL} when set, otherwise starts a local node in a temporary folder with the heap of
 * {@code -Dbench.heap} (default 512m, the local node's default). The log part
 * first warms the node up (one unmeasured round: its JIT and buffers), then measures {@code -Dbench.logRounds}
 * rounds (default 3), each into fresh data streams, and judges the median.
 * Command (from the repository root; see docs/benchmarks.md):
 * <pre>
 * ./mvnw -B -q -pl middleware -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
 * java -cp middleware/target/test-classes:middleware/target/classes:$(cat middleware/target/bench.cp) \
 *     dev.proxymanager.middleware.bench.CacheAndLogBenchmark
 * </pre>
 */
public final class CacheAndLogBenchmark {
    private static final int WARMUP = 3_000;
    private static final int ROUNDS = 20;
    private static final int PER_ROUND = 500;
    private static final int LOG_DOCS = 100_000;

    private CacheAndLogBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("ELASTICSEARCH_URL");
        LocalElasticsearch node = null;
        Path data = null;
        if (url == null || url.isBlank()) {
            data = Files.createTempDirectory("bench-es-");
            node = LocalElasticsearch.builder().withDataDirectory(data)
                    .withHeapSize(System.getProperty("bench.heap", "512m")).build().start();
            url = node.httpUrl();
        }
        ElasticsearchClient client = ElasticsearchClients.create(url);
        try {
            System.out.printf(Locale.ROOT, "Elasticsearch at %s, %d CPUs, Java %s%n", url,
                    Runtime.getRuntime().availableProcessors(), Runtime.version());
            if (args.length == 0 || args[0].equals("cache")) {
                cacheHit(client);
            }
            if (args.length == 0 || args[0].equals("log")) {
                logRounds(client, Integer.getInteger("bench.logRounds", 3));
            }
        } finally {
            ElasticsearchClients.close(client);
            if (node != null) {
                node.close();
            }
        }
    }

    private static CacheKey key() {
        return CacheKey.builder("GET", "https://api.github.com/repos/octo/proxy?per_page=100&page=2")
                .withEndpoint("github").withHeaders(Map.of("Accept", List.of("application/json"),
                        "Authorization", List.of("Bearer ghp_not_a_real_token")))
                .withVaryHeaders(List.of("accept")).withSecretHeaders(List.of("authorization")).build();
    }

    private static void cacheHit(ElasticsearchClient client) throws IOException {
        String index = "bench-cache";
        ElasticsearchCacheStore store = ElasticsearchCacheStore.builder(client).withIndex(index).build();
        store.start();
        CachePolicy policy = CachePolicy.builder().withTtl(Duration.ofHours(1)).build();
        byte[] body = ("{\"items\":[" + "{\"id\":1,\"name\":\"proxy-manager\",\"stars\":42},".repeat(40)
                + "{\"id\":0}]}").getBytes(StandardCharsets.UTF_8);
        Upstream upstream = () -> CachedResponse.of(200, Map.of("Content-Type", List.of("application/json")), body,
                "application/json");
        Upstream mustNotBeCalled = () -> {
            throw new IllegalStateException("benchmark expected a cache hit");
        };
        try (ResponseCache cache = ResponseCache.builder(store).build()) {
            CacheKey k = key();
            cache.fetch(k, policy, CacheMode.NORMAL, upstream);
            while (store.get(k.id()).isEmpty()) {
                LockSupport.parkNanos(1_000_000); // the write runs on the writer thread
            }
            String id = k.id();
            for (int i = 0; i < WARMUP; i++) {
                rawGet(client, index, id);
                viaCache(cache, policy, mustNotBeCalled);
            }
            long[] raw = new long[ROUNDS * PER_ROUND];
            long[] cached = new long[ROUNDS * PER_ROUND];
            int n = 0;
            for (int r = 0; r < ROUNDS; r++) {
                for (int i = 0; i < PER_ROUND; i++, n++) {
                    long t0 = System.nanoTime();
                    rawGet(client, index, id);
                    long t1 = System.nanoTime();
                    viaCache(cache, policy, mustNotBeCalled);
                    long t2 = System.nanoTime();
                    raw[n] = t1 - t0;
                    cached[n] = t2 - t1;
                }
            }
            Arrays.sort(raw);
            Arrays.sort(cached);
            double ratio = (double) median(cached) / median(raw);
            System.out.printf(Locale.ROOT, "cache hit: %d samples each, %d-byte JSON body%n", raw.length, body.length);
            System.out.printf(Locale.ROOT, "  raw get          median %7.1f us  p90 %7.1f us  p99 %7.1f us%n",
                    us(median(raw)), us(pct(raw, 0.90)), us(pct(raw, 0.99)));
            System.out.printf(Locale.ROOT, "  ResponseCache    median %7.1f us  p90 %7.1f us  p99 %7.1f us%n",
                    us(median(cached)), us(pct(cached, 0.90)), us(pct(cached, 0.99)));
            System.out.printf(Locale.ROOT, "  median ratio %.3f (target <= 1.3): %s%n", ratio,
                    ratio <= 1.3 ? "PASS" : "FAIL");
        }
    }

    private static void rawGet(ElasticsearchClient client, String index, String id) throws IOException {
        if (!client.get(g -> g.index(index).id(id).realtime(true), ObjectNode.class).found()) {
            throw new IllegalStateException("benchmark document missing");
        }
    }

    private static void viaCache(ResponseCache cache, CachePolicy policy, Upstream upstream) throws IOException {
        CacheResult r = cache.fetch(key(), policy, CacheMode.NORMAL, upstream);
        if (r.status() != CacheStatus.HIT) {
            throw new IllegalStateException("benchmark expected a hit, was " + r.status());
        }
    }

    /**
     * Round 0 warms the node up and is not judged; each round indexes the node's own ceiling first (a bare
     * BulkIngester, same documents, no buffer around it), then the request log, each into a data stream of its own.
     */
    private static void logRounds(ElasticsearchClient client, int rounds) throws Exception {
        double[] baseline = new double[rounds];
        double[] shipped = new double[rounds];
        for (int r = 0; r <= rounds; r++) {
            System.out.println(r == 0 ? "log round 0 (warm-up, not judged)" : "log round " + r);
            double b = rawIngester(client, "bench-baseline-" + r);
            double l = logShipping(client, "bench-requests-" + r);
            if (r > 0) {
                baseline[r - 1] = b;
                shipped[r - 1] = l;
            }
        }
        Arrays.sort(baseline);
        Arrays.sort(shipped);
        double median = shipped[rounds / 2];
        System.out.printf(Locale.ROOT, "request log, median of %d rounds: %.0f documents/s (bare BulkIngester %.0f)"
                + " (target >= 20000): %s%n", rounds, median, baseline[rounds / 2], median >= 20_000 ? "PASS" : "FAIL");
    }

    private static double logShipping(ElasticsearchClient client, String dataStream) {
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(client).withDataStream(dataStream)
                .withBufferSize(LOG_DOCS).withMaxBatch(2_000).build();
        // same batch size and concurrency as the baseline
        Instant base = Instant.parse("2026-01-01T00:00:00Z");
        RequestLogEntry[] entries = new RequestLogEntry[LOG_DOCS];
        for (int i = 0; i < LOG_DOCS; i++) {
            entries[i] = entry(base, i);
        }
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        for (RequestLogEntry e : entries) {
            log.record(e);
        }
        long recorded = System.nanoTime() - t0;
        while (log.deliveredCount() + log.droppedCount() < LOG_DOCS) {
            // park, not spin: on a 2-core machine a spinning waiter would take a core from the node
            LockSupport.parkNanos(1_000_000);
            if (System.nanoTime() - t0 > Duration.ofMinutes(5).toNanos()) {
                throw new IllegalStateException("log shipping did not finish in 5 minutes: " + log);
            }
        }
        long total = System.nanoTime() - t0;
        log.close();
        double perSecond = LOG_DOCS / (total / 1e9);
        System.out.printf(Locale.ROOT, "request log: %d documents delivered=%d dropped=%d%n", LOG_DOCS,
                log.deliveredCount(), log.droppedCount());
        System.out.printf(Locale.ROOT, "  caller cost per record %.2f us (all %d recorded in %d ms)%n",
                recorded / 1e3 / LOG_DOCS, LOG_DOCS, recorded / 1_000_000);
        System.out.printf(Locale.ROOT, "  shipped in %d ms: %.0f documents/s, client CPU %.1f us per document%n",
                total / 1_000_000, perSecond, (processCpuNanos() - cpu0) / 1e3 / LOG_DOCS);
        if (log.droppedCount() > 0) {
            throw new IllegalStateException("the request log dropped " + log.droppedCount() + " documents");
        }
        return perSecond;
    }

    private static RequestLogEntry entry(Instant base, int i) {
        return RequestLogEntry.builder().withTimestamp(base.plusMillis(i)).withInstanceId("bench")
                .withEndpoint(i % 2 == 0 ? "github" : "search").withMethod("GET")
                .withUrl("https://api.github.com/repos/octo/proxy/issues/" + i).withSecretId("gh-" + (i % 8))
                .withSecretType("key").withStatus(200).withLatencyMs(12L).withBytes(2048L).withCache("miss")
                .withAttempt(1).withOutcome(OutcomeKind.SUCCESS).build();
    }

    private static double rawIngester(ElasticsearchClient client, String dataStream) throws Exception {
        IndexTemplates.putIndexTemplateIfAbsent(client, dataStream,
                IndexTemplates.load(ElasticsearchRequestLog.class, ElasticsearchRequestLog.TEMPLATE_RESOURCE), 0);
        Instant base = Instant.parse("2026-01-01T00:00:00Z");
        int n = LOG_DOCS;
        AtomicLong done = new AtomicLong();
        var ingester = BulkIngester.<Void>of(b -> b.client(client)
                .maxOperations(2000).maxConcurrentRequests(2).flushInterval(1, TimeUnit.SECONDS)
                .listener(new BulkListener<Void>() {
                    @Override
                    public void beforeBulk(long id, BulkRequest r, List<Void> c) {
                    }

                    @Override
                    public void afterBulk(long id, BulkRequest r, List<Void> c, BulkResponse resp) {
                        done.addAndGet(c.size());
                    }

                    @Override
                    public void afterBulk(long id, BulkRequest r, List<Void> c, Throwable t) {
                        System.err.println("baseline bulk failed: " + t);
                        done.addAndGet(c.size());
                    }
                }));
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Map<String, Object> doc = entry(base, i).toDocument();
            ingester.add(o -> o.create(c -> c.index(dataStream).document(doc)), null);
        }
        ingester.flush();
        while (done.get() < n) {
            LockSupport.parkNanos(1_000_000);
        }
        long t = System.nanoTime() - t0;
        ingester.close();
        double perSecond = n / (t / 1e9);
        System.out.printf(Locale.ROOT, "baseline: bare BulkIngester, %d documents: %.0f documents/s, client CPU %.1f us"
                + " per document%n", n, perSecond, (processCpuNanos() - cpu0) / 1e3 / n);
        return perSecond;
    }

    /** This JVM's CPU time: on a machine the node shares, what the client spends is taken from the node. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long median(long[] sorted) {
        return sorted[sorted.length / 2];
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }

    private static double us(long nanos) {
        return nanos / 1e3;
    }
}
