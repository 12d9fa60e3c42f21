package dev.proxymanager.middleware.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxymanager.middleware.InMemoryCacheAndLogBackend;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.log.SecretUsage;
import dev.proxymanager.middleware.store.FailoverUsageStore;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStores;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code usage_store.type = redis} is served by this module once it is on the classpath. */
class RedisUsageStoreProviderTest {

    private final RedisTestServer redis = RedisTestServer.shared();
    private final FakeClock clock = new FakeClock();

    private UsageStoreSettings settings() {
        return new UsageStoreSettings("redis", URI.create(redis.uri()), true, Duration.ofSeconds(60));
    }

    @Test
    void typeRedisIsARedisStoreBehindTheFailoverPolicy() {
        try (UsageStore store = UsageStores.create(settings(), clock)) {
            assertThat(store).isInstanceOf(FailoverUsageStore.class);
            assertThat(store.sharedAcrossProcesses()).isTrue();
            assertThat(((FailoverUsageStore) store).probe().ready()).isTrue();
        }
    }

    @Test
    void aSharedRedisStoreIsNotRestoredFromTheRequestLog() {
        // given a request log remembering a use of k1, and usage shared through Redis (which keeps its own counts)
        redis.flushAll();
        InMemoryCacheAndLogBackend backend = new InMemoryCacheAndLogBackend()
                .remember(new SecretUsage("api", "k1", List.of(clock.now().minusSeconds(60))));
        SecretsConfig secrets = new SecretsConfig(settings(), Map.of("api", EndpointConfig.builder("api", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:1")).withKey(KeyPlacement.DEFAULT)
                .withLimit(LimitConfig.of(5, Duration.ofDays(1))).withSecret("k1", "provider-test-key-value-1")
                .build()));

        // when a manager starts on both
        try (ProxyManager pm = ProxyManager.builder().secrets(secrets).cacheAndLog(backend).clock(clock)
                .usageStore(UsageStores.create(settings(), clock)).build()) {
            // then the log was not read back: Redis's count stands
            assertThat(backend.historyReads()).isZero();
            assertThat(pm.stats("api").getFirst().windows().getFirst().uses()).isZero();
        }
    }
}
