package dev.proxymanager.middleware.cache;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An HTTP response as the cache keeps it: status, headers (names lower-cased), body bytes and content type, plus
 * when it was stored and when it stops being fresh. A response straight from the upstream has no times yet
 * ({@link #createdAt()} and {@link #expiresAt()} are empty); {@link #withTimes} stamps them before storing.
 *
 * <p>Instances are immutable (the body is copied in and out). This class is threadsafe.
 */
public final class CachedResponse {
    private final int status;
    private final Map<String, List<String>> headers;
    private final byte[] body;
    private final String contentType;
    private final Instant createdAt;
    private final Instant expiresAt;

    private CachedResponse(int status, Map<String, List<String>> headers, byte[] body, String contentType,
                           Instant createdAt, Instant expiresAt) {
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.contentType = contentType;
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
    }

    /**
     * A response with no stored times.
     *
     * @param status the HTTP status, 100–599
     * @param headers response headers; names are lower-cased, values kept in order
     * @param body the body bytes (copied); null for none
     * @param contentType the {@code Content-Type}, or null
     * @throws IllegalArgumentException if {@code status} is outside 100–599
     */
    public static CachedResponse of(int status, Map<String, ? extends Collection<String>> headers, byte[] body,
                                    String contentType) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("response status must be within 100-599, was " + status);
        }
        Map<String, List<String>> h = new TreeMap<>();
        if (headers != null) {
            headers.forEach((name, values) -> h.computeIfAbsent(name.toLowerCase(Locale.ROOT),
                    n -> new ArrayList<>()).addAll(values));
        }
        h.replaceAll((k, v) -> List.copyOf(v));
        return new CachedResponse(status, Collections.unmodifiableMap(h), body == null ? new byte[0] : body.clone(),
                contentType, null, null);
    }

    /** A copy stamped with its store and expiry times. */
    public CachedResponse withTimes(Instant createdAt, Instant expiresAt) {
        return new CachedResponse(status, headers, body, contentType, Objects.requireNonNull(createdAt, "createdAt"),
                Objects.requireNonNull(expiresAt, "expiresAt"));
    }

    public int status() {
        return status;
    }

    /** Headers by lower-case name; unmodifiable. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of header {@code name} (any case). */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** A copy of the body bytes. */
    public byte[] body() {
        return body.clone();
    }

    /** The body without a copy: a read-only view, positioned at its start. */
    public ByteBuffer bodyBuffer() {
        return ByteBuffer.wrap(body).asReadOnlyBuffer();
    }

    /** The body length in bytes. */
    public int bodyLength() {
        return body.length;
    }

    public Optional<String> contentType() {
        return Optional.ofNullable(contentType);
    }

    /** When the entry was stored; empty for a response straight from the upstream. */
    public Optional<Instant> createdAt() {
        return Optional.ofNullable(createdAt);
    }

    /** When the entry stops being fresh; empty for a response straight from the upstream. */
    public Optional<Instant> expiresAt() {
        return Optional.ofNullable(expiresAt);
    }

    /** Whether the entry is fresh at {@code now}: stored and {@code now} before its expiry. */
    public boolean isFreshAt(Instant now) {
        return expiresAt != null && now.isBefore(expiresAt);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CachedResponse r && r.status == status && r.headers.equals(headers)
                && Arrays.equals(r.body, body) && Objects.equals(r.contentType, contentType)
                && Objects.equals(r.createdAt, createdAt) && Objects.equals(r.expiresAt, expiresAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, headers, Arrays.hashCode(body), contentType, createdAt, expiresAt);
    }

    @Override
    public String toString() {
        return "CachedResponse[status=" + status + ", bytes=" + body.length + ", contentType=" + contentType
                + ", expiresAt=" + expiresAt + "]";
    }
}
