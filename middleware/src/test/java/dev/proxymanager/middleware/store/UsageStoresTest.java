package dev.proxymanager.middleware.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link UsageStores} with the core alone on the classpath (no backend module). */
class UsageStoresTest {

    @Test
    void typeMemoryIsAnInMemoryStoreOfThisProcess() {
        UsageStore store = UsageStores.create(UsageStoreSettings.DEFAULT, new FakeClock());

        assertThat(store).isInstanceOf(InMemoryUsageStore.class);
        assertThat(store.sharedAcrossProcesses()).isFalse();
    }

    @Test
    void typeRedisWithoutTheRedisModuleNamesTheMissingArtifact() {
        UsageStoreSettings redis = new UsageStoreSettings("redis", URI.create("redis://127.0.0.1:6379"), true,
                Duration.ofSeconds(60));

        assertThatThrownBy(() -> UsageStores.create(redis, new FakeClock()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("usage_store.type = redis")
                .hasMessageContaining("dev.proxymanager:proxy-manager-middleware-redis");
    }
}
