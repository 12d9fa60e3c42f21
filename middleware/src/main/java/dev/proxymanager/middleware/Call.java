package dev.proxymanager.middleware;

import dev.proxymanager.middleware.http.HttpHeaders;
import java.util.Map;
import java.util.Objects;

/**
 * One request: the arguments of {@link Request#send(Call)}, and one call of a batch ({@link Request#sendAll}).
 *
 * @param method the HTTP method
 * @param url the absolute URL
 * @param headers request header fields in order, a name may repeat (two {@code Cookie} fields stay two); null for
 *                none
 * @param params extra query parameters, or null
 * @param body a {@code String}, {@code byte[]} (sent as is, not copied), {@code Map} (form) or Jackson
 *             {@code JsonNode}, or null
 * @param options per-call options, or null for {@link SendOptions#defaults()}
 */
public record Call(String method, String url, HttpHeaders headers, Map<String, String> params, Object body,
                   SendOptions options) {

    public Call {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(url, "url");
        headers = headers == null ? HttpHeaders.empty() : headers;
        options = options == null ? SendOptions.defaults() : options;
    }

    /** A call whose headers are a map (one value per name), as {@link Request#send} takes them; null for none. */
    public Call(String method, String url, Map<String, String> headers, Map<String, String> params, Object body,
                SendOptions options) {
        this(method, url, HttpHeaders.fromMap(headers), params, body, options);
    }

    /** A {@code GET} of {@code url} with no headers or parameters. */
    public static Call get(String url) {
        return new Call("GET", url, HttpHeaders.empty(), null, null, null);
    }
}
