package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.store.redis.RedisUsageStore;

import java.util.Objects;

/**
 * Builds the {@link UsageStore} that {@code usage_store} in secrets.json asks for. Threadsafe (stateless).
 */
public final class UsageStores {

    private UsageStores() {
    }

    /**
     * {@code memory}: a new {@link InMemoryUsageStore}. {@code redis}: a {@link RedisUsageStore} at
     * {@code settings.uri()} inside a {@link FailoverUsageStore} in the configured mode (fail-open unless
     * {@code mode: fail-closed}), probing with {@code PING}. Does not connect: a Redis that is down at start is an
     * outage like any other.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the URI is not a Redis URI
     */
    public static UsageStore create(UsageStoreSettings settings, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        if (settings.type().equals("memory")) {
            return new InMemoryUsageStore();
        }
        RedisUsageStore redis = RedisUsageStore.builder(settings.uri().toString()).build();
        return FailoverUsageStore.builder(redis)
                .withMode(settings.failOpen() ? FailoverUsageStore.Mode.FAIL_OPEN : FailoverUsageStore.Mode.FAIL_CLOSED)
                .withClock(clock)
                .withHealthCheck(redis::ping)
                .build();
    }

    /** {@link #create(UsageStoreSettings, Clock)} with the system clock. */
    public static UsageStore create(UsageStoreSettings settings) {
        return create(settings, Clock.system());
    }
}
