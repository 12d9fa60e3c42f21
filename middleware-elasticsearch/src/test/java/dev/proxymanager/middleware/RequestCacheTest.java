package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The response cache and request log of a {@link ProxyManager} built with Elasticsearch, on a real node. */
@ExtendWith(ElasticsearchExtension.class)
class RequestCacheTest {

    private static final AtomicInteger RUN = new AtomicInteger();
    private static final String KEY_1 = "cache-test-key-value-1";
    private static final String KEY_2 = "cache-test-key-value-2";
    private static ElasticsearchTestNode es;

    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;
    private String cacheIndex;
    private EndpointConfig endpoint;

    @BeforeAll
    static void node(ElasticsearchTestNode node) {
        es = node;
    }

    private void start(KeyPlacement placement) throws IOException {
        upstream = UpstreamServer.withKeys(Map.of(KEY_1, 100, KEY_2, 100));
        endpoint = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl()).withKey(placement)
                .withLimit(LimitConfig.of(100, Duration.ofHours(1))).withSecret("k1", KEY_1).withSecret("k2", KEY_2)
                .build();
        int run = RUN.incrementAndGet();
        cacheIndex = es.index("cache-" + run);
        // by URL: the core finds this module's backend through the ServiceLoader
        pm = ProxyManager.builder().secrets(TestEndpoints.config(endpoint)).elasticsearch(es.url())
                .cacheIndex(cacheIndex).requestLogDataStream(es.index("requests-" + run)).build();
    }

    private Map<?, ?> cacheDocument(String url) throws IOException {
        CacheKey key = Dispatcher.cacheKey(endpoint, Dispatcher.prepare(Call.get(url)), Call.get(url));
        await().atMost(Duration.ofSeconds(20)).until(() -> es.client().exists(e -> e.index(cacheIndex).id(key.id()))
                .value());
        return es.client().get(g -> g.index(cacheIndex).id(key.id()), Map.class).source();
    }

    @Test
    void aSecondIdenticalGetIsServedFromTheCacheWithoutReachingTheUpstream() throws IOException {
        // given a first GET, stored
        start(KeyPlacement.DEFAULT);
        String url = upstream.url("/repos?page=1");
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            Response first = req.send("GET", url, null, null);
            cacheDocument(url);

            // when
            Response second = req.send("GET", url, null, null);

            // then
            assertThat(first.fromCache()).isFalse();
            assertThat(second.fromCache()).isTrue();
            assertThat(second.bodyAsString()).isEqualTo(first.bodyAsString());
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.secretId()).isNull();
            assertThat(upstream.total()).isEqualTo(1);
        }
    }

    @Test
    void theSecretNeverAppearsInTheCacheDocument() throws IOException {
        // given a key sent as a query parameter, the easiest place to leak it from
        start(KeyPlacement.query("api_key"));
        String url = upstream.url("/search?q=java");
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            // when
            Response r = req.send("GET", url, null, null);
            Map<?, ?> doc = cacheDocument(url);

            // then
            assertThat(r.bodyAsString()).contains("api_key="); // the upstream did get it
            // the test upstream echoes the key in its body, which is stored as received; the request side must not
            Map<Object, Object> requestSide = new java.util.HashMap<>(doc);
            requestSide.remove("response");
            String json = new ObjectMapper().writeValueAsString(requestSide);
            assertThat(json).contains("q=java").doesNotContain(KEY_1).doesNotContain(KEY_2);
        }
    }

    @Test
    void noCacheAndRefreshReachTheUpstreamAgain() throws IOException {
        // given
        start(KeyPlacement.DEFAULT);
        String url = upstream.url("/items");
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            req.send("GET", url, null, null);
            cacheDocument(url);

            // when
            Response bypass = req.send("GET", url, null, null, null, SendOptions.defaults().withNoCache(true));
            Response refresh = req.send("GET", url, null, null, null, SendOptions.defaults().withRefresh(true));

            // then
            assertThat(bypass.fromCache()).isFalse();
            assertThat(refresh.fromCache()).isFalse();
            assertThat(upstream.total()).isEqualTo(3);
        }
    }

    @Test
    void aRequestWithTheCacheOffNeverUsesIt() throws IOException {
        // given
        start(KeyPlacement.DEFAULT);
        String url = upstream.url("/items");
        try (Request cached = pm.request(SecretType.KEY, "api", true);
             Request uncached = pm.request(SecretType.KEY, "api", false)) {
            cached.send("GET", url, null, null);
            cacheDocument(url);

            // when
            Response r = uncached.send("GET", url, null, null);

            // then
            assertThat(r.fromCache()).isFalse();
            assertThat(upstream.total()).isEqualTo(2);
        }
    }

    @Test
    void eachAttemptIsOneRequestLogEntryWithoutTheSecret() throws IOException {
        // given one of the two keys revoked, so one call takes two attempts at most
        start(KeyPlacement.query("api_key"));
        upstream.revoke(KEY_1);
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            Response a = req.send("GET", upstream.url("/a"), null, null);
            Response b = req.send("GET", upstream.url("/b"), null, null);
            int attempts = a.attempts() + b.attempts();

            // then: three attempt documents, and one event document for the revoked key's ban
            assertThat(attempts).isEqualTo(3);
            await().atMost(Duration.ofSeconds(20)).until(() -> pm.requestLog().deliveredCount() == attempts + 1);
        }
        String stream = es.index("requests-" + RUN.get());
        es.client().indices().refresh(r -> r.index(stream));
        List<Map> docs = es.client().search(s -> s.index(stream).size(10), Map.class).hits().hits().stream()
                .map(h -> h.source()).toList();
        String json = new ObjectMapper().writeValueAsString(docs);
        assertThat(docs).hasSize(4);
        assertThat(docs).filteredOn(d -> d.containsKey(LogFields.EVENT)).singleElement()
                .satisfies(d -> assertThat(d).containsEntry(LogFields.EVENT, "ban").containsEntry(LogFields.SECRET_ID, "k1"));
        assertThat(json).doesNotContain(KEY_1).doesNotContain(KEY_2).contains("k1").contains("k2");
    }

    @Test
    void aPageBannedByBanBodyPatternIsNotCached() throws IOException {
        // given two keys, the first one's 200 answers (they name the key) matching ban_body_pattern, and no retry
        upstream = UpstreamServer.withKeys(Map.of(KEY_1, 100, KEY_2, 100));
        endpoint = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withRotation(dev.proxymanager.middleware.config.RotationMethod.ROUND_ROBIN)
                .withHealth(dev.proxymanager.middleware.config.HealthPolicy.DEFAULT.withBanBodyPattern(
                        dev.proxymanager.middleware.config.BanBodyPattern.compile(KEY_1)))
                .withRetry(new dev.proxymanager.middleware.config.RetryPolicy(0, Duration.ZERO, Duration.ZERO, false))
                .withSecret("k1", KEY_1).withSecret("k2", KEY_2).build();
        int run = RUN.incrementAndGet();
        cacheIndex = es.index("cache-" + run);
        pm = ProxyManager.builder().secrets(TestEndpoints.config(endpoint)).elasticsearch(es.url())
                .cacheIndex(cacheIndex).requestLogDataStream(es.index("requests-" + run)).build();
        String bannedUrl = null;
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            // when GETs go out until the first key has answered one (round robin: within two)
            for (int i = 0; i < 2 && bannedUrl == null; i++) {
                String url = upstream.url("/page?i=" + i);
                if ("k1".equals(req.send("GET", url, null, null).secretId())) {
                    bannedUrl = url;
                }
            }
            // and a later GET (the second key: the first cools down) is cached, after the first in the one writer
            String later = upstream.url("/later");
            assertThat(req.send("GET", later, null, null).secretId()).isEqualTo("k2");
            cacheDocument(later);
        }

        // then the ban page has no cache document
        assertThat(bannedUrl).isNotNull();
        String url = bannedUrl;
        CacheKey key = Dispatcher.cacheKey(endpoint, Dispatcher.prepare(Call.get(url)), Call.get(url));
        es.client().indices().refresh(r -> r.index(cacheIndex));
        assertThat(es.client().exists(e -> e.index(cacheIndex).id(key.id())).value()).isFalse();
    }
}
