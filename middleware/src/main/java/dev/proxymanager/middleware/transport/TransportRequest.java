package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.http.HttpHeaders;
import java.net.URI;
import java.util.Objects;

/**
 * One HTTP request as the transport sends it, before any secret is applied.
 *
 * @param method the upper-case HTTP method
 * @param uri the absolute target URI, query included
 * @param headers request header fields, in order, repeated names kept
 * @param body the body bytes, or null for none; sent as is (not copied)
 * @param contentType the body's content type, or null
 */
public record TransportRequest(String method, URI uri, HttpHeaders headers, byte[] body, String contentType) {

    public TransportRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        headers = headers == null ? HttpHeaders.empty() : headers;
    }
}
