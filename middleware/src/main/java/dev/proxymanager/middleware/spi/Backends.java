package dev.proxymanager.middleware.spi;

import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Finds the backend providers on the classpath; the one place that knows which artifact brings which backend, so
 * a missing module fails with its Maven coordinates. Threadsafe (stateless).
 */
public final class Backends {

    /** The artifact of each backend this project publishes, by usage-store type or backend name. */
    private static final Map<String, String> ARTIFACTS = Map.of(
            "redis", "dev.proxymanager:proxy-manager-middleware-redis",
            "elasticsearch", "dev.proxymanager:proxy-manager-middleware-elasticsearch");

    private Backends() {
    }

    /**
     * The provider of {@code usage_store.type = type}.
     *
     * @throws IllegalStateException if none is on the classpath; the message names the artifact to add
     */
    public static UsageStoreProvider usageStore(String type) {
        Objects.requireNonNull(type, "type");
        for (UsageStoreProvider p : ServiceLoader.load(UsageStoreProvider.class, classLoader())) {
            if (p.type().equals(type)) {
                return p;
            }
        }
        throw missing("usage_store.type = " + type, type);
    }

    /**
     * The provider of the cache-and-log backend {@code name}.
     *
     * @throws IllegalStateException if none is on the classpath; the message names the artifact to add
     */
    public static CacheAndLogBackendProvider cacheAndLog(String name) {
        Objects.requireNonNull(name, "name");
        for (CacheAndLogBackendProvider p : ServiceLoader.load(CacheAndLogBackendProvider.class, classLoader())) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw missing(name, name);
    }

    private static IllegalStateException missing(String what, String backend) {
        String artifact = ARTIFACTS.getOrDefault(backend, "a module providing the '" + backend + "' backend");
        return new IllegalStateException(what + " needs " + artifact + " on the classpath (add it as a dependency"
                + " beside dev.proxymanager:proxy-manager-middleware)");
    }

    /** The library's own loader, so providers are found where the library is (not only the caller's context). */
    private static ClassLoader classLoader() {
        return Backends.class.getClassLoader();
    }
}
