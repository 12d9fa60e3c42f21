package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.spi.Backends;

import java.util.Objects;

/** Builds the {@link SessionStore} beside the usage store {@code usage_store} asks for. Threadsafe (stateless). */
public final class SessionStores {

    private SessionStores() {
    }

    /**
     * {@code memory}: a new {@link InMemorySessionStore}; another type: the session store of that type's backend
     * module (for {@code redis}, a {@code RedisSessionStore} on the same Redis as the usage store). Does not connect.
     *
     * @throws IllegalStateException when the backend module of the type is not on the classpath (names it)
     */
    public static SessionStore create(UsageStoreSettings settings) {
        Objects.requireNonNull(settings, "settings");
        return settings.type().equals("memory") ? new InMemorySessionStore()
                : Backends.usageStore(settings.type()).createSessionStore(settings);
    }
}
