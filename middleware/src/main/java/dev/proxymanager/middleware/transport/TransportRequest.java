package dev.proxymanager.middleware.transport;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One HTTP request as the transport sends it, before any secret is applied.
 *
 * @param method the upper-case HTTP method
 * @param uri the absolute target URI, query included
 * @param headers request headers (copied)
 * @param body the body bytes, or null for none
 * @param contentType the body's content type, or null
 */
public record TransportRequest(String method, URI uri, Map<String, String> headers, byte[] body, String contentType) {

    public TransportRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        headers = headers == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }
}
