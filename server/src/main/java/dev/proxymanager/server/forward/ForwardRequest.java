package dev.proxymanager.server.forward;

import dev.proxymanager.middleware.http.HttpHeaders;

import java.net.URI;
import java.util.Objects;

/**
 * One request to forward to an endpoint's upstream: the target URL (already checked against the endpoint's allowed
 * hosts), the method, the end-to-end headers the client sent (hop-by-hop ones removed) and the body.
 *
 * @param endpoint the secrets.json endpoint name
 * @param method the HTTP method, upper case
 * @param target the absolute upstream URL
 * @param headers header fields, in order, repeated names kept (two {@code Cookie} fields stay two)
 * @param body the request body (empty for none); bounded by {@code max_request_bytes}; held once, not copied on
 *             its way to the transport
 * @param useCache whether a cached response may answer (the client can opt out with {@code Cache-Control: no-cache})
 * @param cost the uses the call costs as the client set it ({@code X-Proxy-Manager-Cost}); 0 for the endpoint's
 *             configured cost
 */
public record ForwardRequest(String endpoint, String method, URI target, HttpHeaders headers, byte[] body,
                             boolean useCache, int cost) {

    /** At the endpoint's configured cost. */
    public ForwardRequest(String endpoint, String method, URI target, HttpHeaders headers, byte[] body,
                          boolean useCache) {
        this(endpoint, method, target, headers, body, useCache, 0);
    }

    public ForwardRequest {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
    }
}
