package dev.proxymanager.middleware.elastic;

import dev.proxymanager.middleware.spi.CacheAndLogBackend;
import dev.proxymanager.middleware.spi.CacheAndLogBackendProvider;

/**
 * The {@code elasticsearch} backend of {@code ProxyManager.builder().elasticsearch(url)}, found through
 * {@link java.util.ServiceLoader}. Threadsafe (stateless).
 */
public final class ElasticsearchBackendProvider implements CacheAndLogBackendProvider {

    @Override
    public String name() {
        return "elasticsearch";
    }

    @Override
    public CacheAndLogBackend connect(String url) {
        return ElasticsearchBackend.connect(url);
    }
}
