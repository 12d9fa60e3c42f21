package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.spi.Backends;

import java.util.Objects;

/**
 * Builds the {@link UsageStore} that {@code usage_store} in secrets.json asks for. Threadsafe (stateless).
 */
public final class UsageStores {

    private UsageStores() {
    }

    /**
     * {@code memory}: a new {@link InMemoryUsageStore}. Any other type: the store of the
     * {@link dev.proxymanager.middleware.spi.UsageStoreProvider} of that type on the classpath; {@code redis}
     * (artifact {@code proxy-manager-middleware-redis}) gives a Redis store at {@code settings.uri()} inside a
     * {@link FailoverUsageStore} in the configured mode (fail-open unless {@code mode: fail-closed}), probing with
     * {@code PING}. Does not connect: a Redis that is down at start is an outage like any other.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the URI is not a Redis URI
     * @throws IllegalStateException if the type's backend module is not on the classpath (the message names it)
     */
    public static UsageStore create(UsageStoreSettings settings, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        if (settings.type().equals("memory")) {
            return new InMemoryUsageStore();
        }
        return Backends.usageStore(settings.type()).create(settings, clock);
    }

    /** {@link #create(UsageStoreSettings, Clock)} with the system clock. */
    public static UsageStore create(UsageStoreSettings settings) {
        return create(settings, Clock.system());
    }
}
