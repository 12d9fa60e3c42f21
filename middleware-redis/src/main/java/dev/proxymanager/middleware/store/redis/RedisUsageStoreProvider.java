package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.spi.UsageStoreProvider;
import dev.proxymanager.middleware.store.FailoverUsageStore;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.store.UsageStore;

import java.util.Objects;

/**
 * {@code usage_store.type = redis}: a {@link RedisUsageStore} at the configured URI inside a
 * {@link FailoverUsageStore} in the configured mode, probing with {@code PING}. Found by
 * {@link dev.proxymanager.middleware.store.UsageStores} through {@link java.util.ServiceLoader}. Threadsafe
 * (stateless).
 */
public final class RedisUsageStoreProvider implements UsageStoreProvider {

    @Override
    public String type() {
        return "redis";
    }

    @Override
    public UsageStore create(UsageStoreSettings settings, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        RedisUsageStore redis = RedisUsageStore.builder(settings.uri().toString()).build();
        return FailoverUsageStore.builder(redis)
                .withMode(settings.failOpen() ? FailoverUsageStore.Mode.FAIL_OPEN : FailoverUsageStore.Mode.FAIL_CLOSED)
                .withClock(clock)
                .withHealthCheck(redis::ping)
                .build();
    }

    /** Sessions in the same Redis, so a session begun on one replica continues on another. */
    @Override
    public SessionStore createSessionStore(UsageStoreSettings settings) {
        return RedisSessionStore.create(settings.uri().toString());
    }
}
