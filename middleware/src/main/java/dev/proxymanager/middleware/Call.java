package dev.proxymanager.middleware;

import java.util.Map;
import java.util.Objects;

/**
 * One request of a batch ({@link Request#sendAll}): the same arguments as {@link Request#send}.
 *
 * @param method the HTTP method
 * @param url the absolute URL
 * @param headers request headers, or null
 * @param params extra query parameters, or null
 * @param body a {@code String}, {@code byte[]}, {@code Map} (form) or Jackson {@code JsonNode}, or null
 * @param options per-call options, or null for {@link SendOptions#defaults()}
 */
public record Call(String method, String url, Map<String, String> headers, Map<String, String> params, Object body,
                   SendOptions options) {

    public Call {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(url, "url");
        options = options == null ? SendOptions.defaults() : options;
    }

    /** A {@code GET} of {@code url} with no headers or parameters. */
    public static Call get(String url) {
        return new Call("GET", url, null, null, null, null);
    }
}
