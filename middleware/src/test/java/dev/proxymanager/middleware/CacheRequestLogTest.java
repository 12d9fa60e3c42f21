package dev.proxymanager.middleware;

import dev.proxymanager.middleware.cache.CachePolicy;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.RequestLogEntry;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the request log says of cached calls: a hit is not an upstream attempt, and a call is one miss. */
class CacheRequestLogTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;
    private final InMemoryCacheAndLogBackend backend = new InMemoryCacheAndLogBackend();

    private ProxyManager manager(Map<String, Integer> keys) throws IOException {
        upstream = UpstreamServer.withKeys(keys);
        EndpointConfig.Builder e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(100, Duration.ofHours(1))).withCache(CachePolicy.DEFAULT);
        keys.keySet().stream().sorted().forEach(k -> e.withSecret("id-" + k, k));
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e.build())).clock(clock).sleeper(clock::advance)
                .cacheAndLog(backend).build();
        return pm;
    }

    private Response get(String path) throws IOException {
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            return req.send("GET", upstream.url(path), null, null);
        }
    }

    @Test
    void aCallWithTwoRetriesCountsOneMiss() throws IOException {
        // given three keys the upstream throttles, so a call tries all three (two retries)
        manager(Map.of("throttled-key-1", 0, "throttled-key-2", 0, "throttled-key-3", 0));

        // when
        Response r = get("/a");

        // then three attempts are logged, but the call's cache status once: one miss in the log and in the stats
        assertThat(r.attempts()).isEqualTo(3);
        List<Map<String, Object>> docs = ((InMemoryRequestLog) backend.requestLog(null, clock)).documents()
                .stream().filter(d -> !d.containsKey(LogFields.EVENT)).toList(); // requests, not secret events
        assertThat(docs).extracting(d -> d.get(LogFields.ATTEMPT)).containsExactly(1, 2, 3);
        assertThat(docs).filteredOn(d -> "miss".equals(d.get(LogFields.CACHE))).hasSize(1)
                .allSatisfy(d -> assertThat(d).containsEntry(LogFields.ATTEMPT, 1));
        assertThat(docs).filteredOn(d -> d.containsKey(LogFields.CACHE)).hasSize(1);
        assertThat(pm.cache().stats().misses()).isEqualTo(1);
    }

    @Test
    void aCacheHitIsLoggedAsAttemptZeroWithoutUpstreamLatencyOrSecret() throws IOException {
        // given a response in the cache
        manager(Map.of("good-key-1", 100));
        Response first = get("/item");
        assertThat(first.fromCache()).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/item").fromCache());

        // when the log is read
        List<RequestLogEntry> entries = ((InMemoryRequestLog) backend.requestLog(null, clock)).entries();
        RequestLogEntry upstreamAttempt = entries.getFirst();
        RequestLogEntry hit = entries.getLast();

        // then the hit says it was answered from the cache, with the status served, and no upstream figures
        assertThat(upstreamAttempt.attempt()).isEqualTo(1);
        assertThat(upstreamAttempt.cache()).isEqualTo("miss");
        assertThat(upstreamAttempt.latencyMs()).isNotNull();
        assertThat(hit.toDocument())
                .containsEntry(LogFields.ATTEMPT, 0)
                .containsEntry(LogFields.CACHE, "hit")
                .containsEntry(LogFields.STATUS, 200)
                .doesNotContainKeys(LogFields.LATENCY_MS, LogFields.SECRET_ID);
    }
}
