package dev.proxymanager.middleware.spi;

/**
 * Connects a {@link CacheAndLogBackend} from a URL, for
 * {@link dev.proxymanager.middleware.ProxyManager.Builder#elasticsearch(String)}. A backend module registers its
 * implementation in {@code META-INF/services/dev.proxymanager.middleware.spi.CacheAndLogBackendProvider}.
 * Implementations are threadsafe.
 */
public interface CacheAndLogBackendProvider {

    /** The backend's name, e.g. {@code elasticsearch}. */
    String name();

    /**
     * A backend at {@code url} that owns its connection and closes it on {@link CacheAndLogBackend#close()}.
     *
     * @throws IllegalArgumentException if the URL is not one of this backend
     */
    CacheAndLogBackend connect(String url);
}
