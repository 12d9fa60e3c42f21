package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.store.redis.RedisSessionStore;

import java.util.Objects;

/** Builds the {@link SessionStore} beside the usage store {@code usage_store} asks for. Threadsafe (stateless). */
public final class SessionStores {

    private SessionStores() {
    }

    /**
     * {@code memory}: a new {@link InMemorySessionStore}; {@code redis}: a {@link RedisSessionStore} on the same Redis
     * as the usage store. Does not connect.
     */
    public static SessionStore create(UsageStoreSettings settings) {
        Objects.requireNonNull(settings, "settings");
        return settings.type().equals("memory") ? new InMemorySessionStore()
                : RedisSessionStore.create(settings.uri().toString());
    }
}
