package dev.proxymanager.middleware.spi;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.store.InMemorySessionStore;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.store.UsageStore;

/**
 * Builds the {@link UsageStore} of one {@code usage_store.type} of secrets.json. A backend module registers its
 * implementation in {@code META-INF/services/dev.proxymanager.middleware.spi.UsageStoreProvider}.
 * Implementations are threadsafe.
 */
public interface UsageStoreProvider {

    /** The {@code usage_store.type} this provider serves, e.g. {@code redis}. */
    String type();

    /**
     * A store for {@code settings}, ready to use; a networked store comes wrapped in a
     * {@link dev.proxymanager.middleware.store.FailoverUsageStore} in the configured mode. Does not connect.
     *
     * @throws IllegalArgumentException if the settings do not suit this backend (e.g. not a Redis URI)
     */
    UsageStore create(UsageStoreSettings settings, Clock clock);

    /**
     * The store of the proxy port's sticky sessions beside the usage store, shared as widely: by default one of this
     * process only. Does not connect.
     */
    default SessionStore createSessionStore(UsageStoreSettings settings) {
        return new InMemorySessionStore();
    }
}
