package dev.proxymanager.middleware.cache;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.mapping.Property;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store contract on a real node, plus what only the Elasticsearch store has: mapping, documents, purge paging. */
@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchCacheStoreTest extends CacheStoreContractTest {
    private static final AtomicInteger INDEXES = new AtomicInteger();
    private static ElasticsearchTestNode es;
    private String index;

    @BeforeAll
    static void node(ElasticsearchTestNode node) {
        es = node;
    }

    @Override
    CacheStore createStore() {
        index = es.index("cache-" + INDEXES.incrementAndGet());
        ElasticsearchCacheStore s = ElasticsearchCacheStore.builder(es.client()).withIndex(index).build();
        s.start();
        return s;
    }

    @Test
    void createsTheIndexWithTheExplicitMappingOfTheTemplateFile() throws IOException {
        Map<String, Property> props = es.client().indices().getMapping(m -> m.index(index)).get(index).mappings()
                .properties();

        assertThat(props.get("url").isKeyword()).isTrue();
        assertThat(props.get("url").keyword().fields().get("text").isText()).isTrue();
        assertThat(props.get("expires_at").isDate()).isTrue();
        assertThat(props.get("schema_version").isInteger()).isTrue();
        assertThat(props.get("response").object().properties().get("status").isInteger()).isTrue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDocumentHoldsKeyMaterialAndResponseButNoSecret() throws IOException {
        CacheKey k = CacheKey.builder("GET", "https://api.example.com/x?q=1&api_key=SECRET")
                .withEndpoint("example").withSecretQueryParameters(List.of("api_key"))
                .withHeaders(Map.of("X-Api-Key", List.of("SECRET"), "Accept", List.of("application/json")))
                .withVaryHeaders(List.of("accept", "x-api-key")).withSecretHeaders(List.of("x-api-key")).build();
        store.put(k, json("{\"a\":1}", T0, Duration.ofMinutes(5)));

        @SuppressWarnings("unchecked")
        Map<String, Object> doc = es.client().get(g -> g.index(index).id(k.id()), Map.class).source();

        assertThat(doc).containsKeys("method", "url", "params", "headers", "response", "endpoint",
                "created_at", "expires_at", "schema_version", "key_material");
        assertThat(doc.get("url")).isEqualTo("https://api.example.com/x?q=1");
        assertThat(doc.get("headers")).isEqualTo(Map.of("accept", List.of("application/json")));
        assertThat((Map<String, Object>) doc.get("response")).containsEntry("body", "{\"a\":1}")
                .containsEntry("content_type", "application/json");
        assertThat(doc.toString()).doesNotContain("SECRET");
    }

    @Test
    void anUnreadableDocumentIsReportedAsCorrupt() throws IOException {
        CacheKey k = key("/broken");
        es.client().index(i -> i.index(index).id(k.id()).document(Map.of("schema_version", 1,
                "response", Map.of("status", 200, "body_base64", "***not base64***"),
                "created_at", "2026-01-01T00:00:00Z", "expires_at", "2099-01-01T00:00:00Z")));

        assertThatThrownBy(() -> store.get(k.id()))
                .isInstanceOf(CorruptCacheEntryException.class)
                .hasMessageContaining("body_base64");
    }

    @Test
    void aCorruptDocumentIsAMissThroughTheResponseCache() throws IOException {
        CacheKey k = key("/broken-through-cache");
        es.client().index(i -> i.index(index).id(k.id()).document(Map.of("schema_version", 99)));
        try (ResponseCache cache = ResponseCache.builder(store).build()) {
            CacheResult r = cache.fetch(k, CachePolicy.DEFAULT, CacheMode.NORMAL,
                    () -> CachedResponse.of(200, Map.of(), "fresh".getBytes(StandardCharsets.UTF_8), "text/plain"));

            assertThat(r.status()).isEqualTo(CacheStatus.MISS);
            assertThat(cache.stats().corruptEntries()).isEqualTo(1);
        }
    }

    @Test
    void purgeWorksAcrossManyPages() {
        ElasticsearchCacheStore paged = ElasticsearchCacheStore.builder(es.client()).withIndex(index)
                .withPurgePageSize(7).build();
        for (int i = 0; i < 30; i++) {
            paged.put(key("/p/" + i), json("{}", T0.minus(Duration.ofHours(3)), Duration.ofHours(1)));
        }
        paged.put(key("/p/live"), json("{}", T0, Duration.ofHours(1)));

        assertThat(paged.purgeExpiredBefore(T0)).isEqualTo(30);
        assertThat(paged.get(key("/p/live").id())).isPresent();
    }

    @Test
    void recreatesTheIndexWhenItIsDeletedUnderIt() throws IOException {
        ElasticsearchClient client = es.client();
        client.indices().delete(d -> d.index(index));

        assertThat(store.get(key("/after-delete").id())).isEmpty();
        store.put(key("/after-delete"), json("{}", T0, Duration.ofHours(1)));

        assertThat(store.get(key("/after-delete").id())).isPresent();
    }
}
