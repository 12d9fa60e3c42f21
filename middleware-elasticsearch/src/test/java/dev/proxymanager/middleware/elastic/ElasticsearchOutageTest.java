package dev.proxymanager.middleware.elastic;

import dev.proxymanager.middleware.health.OutcomeKind;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.cache.CacheMode;
import dev.proxymanager.middleware.cache.CachePolicy;
import dev.proxymanager.middleware.cache.CacheResult;
import dev.proxymanager.middleware.cache.CacheStatus;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.cache.ElasticsearchCacheStore;
import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.cache.Upstream;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.monitor.elasticsearch.LocalElasticsearch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Elasticsearch stops mid-run and comes back: callers never see an error, the cache is bypassed and then resumes,
 * request-log documents wait in the buffer and arrive after the restart. Runs its own node (the shared one must
 * stay up for other test classes).
 */
class ElasticsearchOutageTest {
    private static Path data;
    private static LocalElasticsearch node;

    @BeforeAll
    static void startOwnNode() throws IOException {
        // not @TempDir: as root the node runs as another user, and @TempDir's parent is private to root
        data = Files.createTempDirectory("outage-es-");
        node = LocalElasticsearch.builder().withDataDirectory(data).withHeapSize("256m").build().start();
    }

    @AfterAll
    static void stopOwnNode() throws IOException {
        if (node != null) {
            node.close();
        }
        try (var paths = Files.walk(data)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void callsKeepSucceedingWhileElasticsearchIsDownAndEverythingResumesAfterRestart() throws IOException {
        ElasticsearchClient client = ElasticsearchClients.create(node.httpUrl(), Duration.ofSeconds(1),
                Duration.ofSeconds(5));
        ElasticsearchCacheStore store = ElasticsearchCacheStore.builder(client).withIndex("outage-cache").build();
        ResponseCache cache = ResponseCache.builder(store).withStoreRetryInterval(Duration.ofMillis(200)).build();
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(client).withDataStream("outage-requests")
                .withFlushInterval(Duration.ofMillis(100))
                .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
        CachePolicy policy = CachePolicy.builder().withTtl(Duration.ofHours(1)).build();
        AtomicInteger upstreamCalls = new AtomicInteger();
        Upstream upstream = () -> {
            upstreamCalls.incrementAndGet();
            return CachedResponse.of(200, Map.of(), "payload".getBytes(StandardCharsets.UTF_8), "text/plain");
        };
        CacheKey a = CacheKey.builder("GET", "https://api.example.com/a").withEndpoint("example").build();
        CacheKey b = CacheKey.builder("GET", "https://api.example.com/b").withEndpoint("example").build();
        try {
            // given a working cache and log
            assertThat(cache.fetch(a, policy, CacheMode.NORMAL, upstream).status()).isEqualTo(CacheStatus.MISS);
            await().atMost(Duration.ofSeconds(30)).until(() -> store.get(a.id()).isPresent());
            assertThat(cache.fetch(a, policy, CacheMode.NORMAL, upstream).status()).isEqualTo(CacheStatus.HIT);
            record(log, 0, 10);
            await().atMost(Duration.ofSeconds(60)).until(() -> log.deliveredCount() == 10);

            // when Elasticsearch goes away
            node.stop();

            // then calls still succeed from the upstream, nothing throws, and the outage shows in the counters
            CacheResult during = cache.fetch(a, policy, CacheMode.NORMAL, upstream);
            assertThat(during.status()).isEqualTo(CacheStatus.MISS);
            assertThat(during.fromCache()).isFalse();
            assertThat(cache.stats().storeErrors()).isPositive();
            assertThat(cache.stats().storeAvailable()).isFalse();
            record(log, 10, 30);
            await().atMost(Duration.ofSeconds(30)).until(() -> log.failedBulkCount() > 0);
            assertThat(log.bufferedCount()).isEqualTo(20);
            assertThat(log.droppedCount()).isZero();

            // when it comes back
            node.start();

            // then buffered documents arrive and caching resumes
            // bounds are generous: on a loaded 2-core machine a node restart and its first bulks can take a minute
            await().atMost(Duration.ofSeconds(120)).until(() -> log.deliveredCount() == 30);
            client.indices().refresh(r -> r.index("outage-requests"));
            assertThat(client.count(c -> c.index("outage-requests")).count()).isEqualTo(30);
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    cache.fetch(b, policy, CacheMode.NORMAL, upstream).status() == CacheStatus.HIT);
            assertThat(cache.stats().storeAvailable()).isTrue();
        } finally {
            log.close();
            cache.close();
            ElasticsearchClients.close(client);
        }
    }

    private static void record(ElasticsearchRequestLog log, int from, int to) {
        for (int i = from; i < to; i++) {
            log.record(RequestLogEntry.builder().withTimestamp(Instant.parse("2026-06-01T00:00:00Z").plusSeconds(i))
                    .withEndpoint("example").withMethod("GET").withUrl("https://api.example.com/" + i)
                    .withSecretId("k-1").withOutcome(OutcomeKind.SUCCESS).withStatus(200).build());
        }
    }
}
