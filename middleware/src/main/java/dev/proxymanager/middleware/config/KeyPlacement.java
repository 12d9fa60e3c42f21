package dev.proxymanager.middleware.config;

import java.util.Objects;

/**
 * Where an API key goes in a request: a header whose value is {@code format} with {@code {key}} replaced, or a query
 * parameter. Exactly one of {@code header} and {@code queryParameter} is set. Immutable and threadsafe.
 *
 * @param header header name, or {@code null} for a query parameter
 * @param format header value template containing {@code {key}}; {@code "{key}"} by default
 * @param queryParameter query parameter name, or {@code null} for a header
 */
public record KeyPlacement(String header, String format, String queryParameter) {

    /** The placeholder replaced by the key in {@link #format()}. */
    public static final String PLACEHOLDER = "{key}";

    public KeyPlacement {
        if ((header == null) == (queryParameter == null)) {
            throw new IllegalArgumentException("a key goes in exactly one of a header or a query parameter, was header="
                    + header + ", query=" + queryParameter);
        }
        if (header != null) {
            format = format == null ? PLACEHOLDER : format;
            if (header.isBlank()) {
                throw new IllegalArgumentException("header must not be blank");
            }
            if (!format.contains(PLACEHOLDER)) {
                throw new IllegalArgumentException("format must contain {key}, was \"" + format + "\"");
            }
        } else {
            if (format != null) {
                throw new IllegalArgumentException("format applies to a header only, not to query parameter "
                        + queryParameter);
            }
            if (queryParameter.isBlank()) {
                throw new IllegalArgumentException("query must not be blank");
            }
        }
    }

    /** The key in header {@code name}, formatted by {@code format} (e.g. {@code Bearer {key}}). */
    public static KeyPlacement header(String name, String format) {
        return new KeyPlacement(Objects.requireNonNull(name, "name"), format, null);
    }

    /** The key in query parameter {@code name}. */
    public static KeyPlacement query(String name) {
        return new KeyPlacement(null, null, Objects.requireNonNull(name, "name"));
    }

    /** The default: {@code Authorization: Bearer {key}}. */
    public static final KeyPlacement DEFAULT = header("Authorization", "Bearer {key}");

    /** Whether the key goes in a header. */
    public boolean inHeader() {
        return header != null;
    }

    /** The header value for {@code key}; only for header placements. */
    public String headerValue(String key) {
        if (header == null) {
            throw new IllegalStateException("key goes in query parameter " + queryParameter + ", not a header");
        }
        return format.replace(PLACEHOLDER, key);
    }
}
