package dev.proxymanager.middleware.elastic;

import dev.proxymanager.middleware.clock.Clock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxymanager.middleware.cache.ElasticsearchCacheStore;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.spi.Backends;
import dev.proxymanager.middleware.spi.CacheAndLogBackend;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Elasticsearch cache-and-log backend, found by name and given a client, on a real node. */
@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchBackendTest {

    @Test
    void theCoreFindsTheElasticsearchBackendByName(ElasticsearchTestNode es) {
        try (CacheAndLogBackend backend = Backends.cacheAndLog("elasticsearch").connect(es.url())) {
            assertThat(backend).isInstanceOf(ElasticsearchBackend.class);
            assertThat(backend.cacheStore(es.index("backend-cache"))).isInstanceOf(ElasticsearchCacheStore.class);
            try (var log = backend.requestLog(es.index("backend-requests"), Clock.system())) {
                assertThat(log).isInstanceOf(ElasticsearchRequestLog.class);
                assertThat(((ElasticsearchRequestLog) log).dataStream()).isEqualTo(es.index("backend-requests"));
            }
        }
    }

    @Test
    void closingABackendOnAGivenClientLeavesTheClientOpen(ElasticsearchTestNode es) throws IOException {
        // given a backend on the caller's client, when it is closed
        ElasticsearchBackend.of(es.client()).close();

        // then the client still answers (a closed one throws)
        assertThat(es.client().indices().refresh().shards()).isNotNull();
    }
}
