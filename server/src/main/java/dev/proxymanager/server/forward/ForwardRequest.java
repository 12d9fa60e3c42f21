package dev.proxymanager.server.forward;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One request to forward to an endpoint's upstream: the target URL (already checked against the endpoint's allowed
 * hosts), the method, the end-to-end headers the client sent (hop-by-hop ones removed) and the body.
 *
 * @param endpoint the secrets.json endpoint name
 * @param method the HTTP method, upper case
 * @param target the absolute upstream URL
 * @param headers header name/value pairs, in order, duplicates allowed
 * @param body the request body (empty for none); bounded by {@code max_request_bytes}
 * @param useCache whether a cached response may answer (the client can opt out with {@code Cache-Control: no-cache})
 */
public record ForwardRequest(String endpoint, String method, URI target, List<Map.Entry<String, String>> headers,
                             byte[] body, boolean useCache) {
    public ForwardRequest {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        headers = List.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }
}
