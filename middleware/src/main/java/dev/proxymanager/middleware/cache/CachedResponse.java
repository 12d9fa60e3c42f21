package dev.proxymanager.middleware.cache;

import dev.proxymanager.middleware.http.HttpHeaders;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An HTTP response as the cache keeps it: status, headers (in wire order, repeated names kept), body bytes and
 * content type, plus when it was stored and when it stops being fresh. A response straight from the upstream has no times yet
 * ({@link #createdAt()} and {@link #expiresAt()} are empty); {@link #withTimes} stamps them before storing.
 *
 * <p>Instances are immutable: the body is held once, read-only, and copied out only by {@link #body()}. This class
 * is threadsafe.
 */
public final class CachedResponse {
    private final int status;
    private final HttpHeaders fields;
    private final Map<String, List<String>> headers;
    private final ByteBuffer body; // read-only, position 0
    private final String contentType;
    private final Instant createdAt;
    private final Instant expiresAt;

    private CachedResponse(int status, HttpHeaders fields, ByteBuffer body, String contentType,
                           Instant createdAt, Instant expiresAt) {
        this.status = status;
        this.fields = fields;
        this.headers = fields.toMultimap();
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
        return of(status, HttpHeaders.fromMultimap(headers),
                ByteBuffer.wrap(body == null ? new byte[0] : body.clone()), contentType);
    }

    /**
     * A response with no stored times, holding {@code body} as given: the caller hands it over and must not change
     * it (this is how the transport passes a body it read without a second copy).
     *
     * @param status the HTTP status, 100–599
     * @param headers response header fields, in order
     * @param body the body from its position to its limit, not copied
     * @param contentType the {@code Content-Type}, or null
     * @throws IllegalArgumentException if {@code status} is outside 100–599
     */
    public static CachedResponse of(int status, HttpHeaders headers, ByteBuffer body, String contentType) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("response status must be within 100-599, was " + status);
        }
        return new CachedResponse(status, Objects.requireNonNull(headers, "headers"),
                body.slice().asReadOnlyBuffer(), contentType, null, null);
    }

    /** A copy stamped with its store and expiry times. */
    public CachedResponse withTimes(Instant createdAt, Instant expiresAt) {
        return new CachedResponse(status, fields, body, contentType, Objects.requireNonNull(createdAt, "createdAt"),
                Objects.requireNonNull(expiresAt, "expiresAt"));
    }

    public int status() {
        return status;
    }

    /** Headers by lower-case name, each name's values in order; unmodifiable. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The header fields in the order received, repeated names kept. */
    public HttpHeaders headerFields() {
        return fields;
    }

    /** The first value of header {@code name} (any case). */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** A copy of the body bytes. */
    public byte[] body() {
        byte[] copy = new byte[body.remaining()];
        body.duplicate().get(copy);
        return copy;
    }

    /** The body without a copy: a read-only view, positioned at its start. */
    public ByteBuffer bodyBuffer() {
        return body.duplicate();
    }

    /** The body length in bytes. */
    public int bodyLength() {
        return body.remaining();
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
                && r.body.equals(body) && Objects.equals(r.contentType, contentType)
                && Objects.equals(r.createdAt, createdAt) && Objects.equals(r.expiresAt, expiresAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, headers, body, contentType, createdAt, expiresAt);
    }

    @Override
    public String toString() {
        return "CachedResponse[status=" + status + ", bytes=" + body.remaining() + ", contentType=" + contentType
                + ", expiresAt=" + expiresAt + "]";
    }
}
