package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.config.EndpointConfig;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cache key of a request sent through the proxy port (plain or intercepted): method, full URL, the endpoint and
 * its {@code cache.vary_headers}, the body; proxy credentials are never part of it ({@link CacheKey} excludes
 * {@code Proxy-Authorization}, and the forwarded headers no longer carry it). This class is threadsafe (stateless).
 */
final class ProxiedCacheKey {

    private ProxiedCacheKey() {
    }

    static CacheKey of(EndpointConfig endpoint, String method, URI target, List<Map.Entry<String, String>> headers,
                       byte[] body, String contentType) {
        Map<String, List<String>> multimap = new LinkedHashMap<>();
        headers.forEach(h -> multimap.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), n -> new ArrayList<>())
                .add(h.getValue()));
        CacheKey.Builder b = CacheKey.builder(method, target.toString())
                .withEndpoint(endpoint.name())
                .withHeaders(multimap)
                .withVaryHeaders(endpoint.cache().varyHeaders());
        if (body.length > 0) {
            b.withBody(body, contentType);
        }
        return b.build();
    }
}
