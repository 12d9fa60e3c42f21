package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.SecretUsage;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How {@link ProxyManager} plugs in its cache-and-log backend: by URL through the ServiceLoader (no backend module
 * is on the core's test classpath), or given directly.
 */
class ProxyManagerBackendTest {

    private final FakeClock clock = new FakeClock();
    private final SecretsConfig secrets = TestEndpoints.config(EndpointConfig.builder("api", SecretType.KEY)
            .withBaseUrl(URI.create("http://127.0.0.1:1")).withKey(KeyPlacement.DEFAULT)
            .withLimit(LimitConfig.of(5, Duration.ofDays(1))).withSecret("k1", "backend-test-key-value-1").build());

    @Test
    void anElasticsearchUrlWithoutTheElasticsearchModuleNamesTheMissingArtifact() {
        // given the core alone on the classpath, when a manager is asked for Elasticsearch by URL
        ProxyManager.Builder builder = ProxyManager.builder().secrets(secrets).elasticsearch("http://127.0.0.1:9200");

        // then build() says which artifact to add
        assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dev.proxymanager:proxy-manager-middleware-elasticsearch");
    }

    @Test
    void anElasticsearchUrlAndABackendTogetherAreRejected() {
        ProxyManager.Builder builder = ProxyManager.builder().secrets(secrets).elasticsearch("http://127.0.0.1:9200")
                .cacheAndLog(new InMemoryCacheAndLogBackend());

        assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("given twice");
    }

    @Test
    void aGivenBackendHoldsTheCacheAndTheRequestLog() {
        InMemoryCacheAndLogBackend backend = new InMemoryCacheAndLogBackend();

        try (ProxyManager pm = ProxyManager.builder().secrets(secrets).cacheAndLog(backend).clock(clock).build()) {
            assertThat(pm.cache()).isNotNull();
            assertThat(pm.requestLog()).isSameAs(backend.requestLog(null, clock));
        }
    }

    @Test
    void usesInTheBackendsHistoryCountAgainstWindowsStillOpen() {
        // given a log that remembers two uses of k1 an hour ago, inside the daily window
        Instant hourAgo = clock.now().minus(Duration.ofHours(1));
        InMemoryCacheAndLogBackend backend = new InMemoryCacheAndLogBackend()
                .remember(new SecretUsage("api", "k1", List.of(hourAgo, hourAgo.plusSeconds(1))));

        // when a manager of this process (its own in-memory store) starts on it
        try (ProxyManager pm = ProxyManager.builder().secrets(secrets).cacheAndLog(backend).clock(clock)
                .usageStore(new InMemoryUsageStore()).build()) {
            // then the uses are counted again
            assertThat(pm.stats("api").getFirst().windows().getFirst().uses()).isEqualTo(2);
        }
    }

    @Test
    void withRestoreOffTheHistoryIsNotRead() {
        InMemoryCacheAndLogBackend backend = new InMemoryCacheAndLogBackend()
                .remember(new SecretUsage("api", "k1", List.of(clock.now().minusSeconds(60))));

        try (ProxyManager pm = ProxyManager.builder().secrets(secrets).cacheAndLog(backend).clock(clock)
                .restoreUsageFromLog(false).build()) {
            assertThat(backend.historyReads()).isZero();
            assertThat(pm.stats("api").getFirst().windows().getFirst().uses()).isZero();
        }
    }
}
