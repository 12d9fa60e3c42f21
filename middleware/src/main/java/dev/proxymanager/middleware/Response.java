package dev.proxymanager.middleware;

import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.health.OutcomeKind;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.hc.core5.http.ContentType;

/**
 * An upstream response (or a cached one): status, headers, the whole body, whether it came from the cache and
 * which secret was used. Immutable and threadsafe; the body is copied out.
 */
public final class Response {

    private final int status;
    private final HttpHeaders fields;
    private final Map<String, List<String>> headers;
    private final ByteBuffer body; // read-only: shared with the cached response, never copied in
    private final boolean fromCache;
    private final String secretId;
    private final int attempts;
    private final OutcomeKind outcome;

    Response(int status, HttpHeaders headers, ByteBuffer body, boolean fromCache, String secretId, int attempts,
             OutcomeKind outcome) {
        this.status = status;
        this.fields = headers;
        Map<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers.toMultimap());
        this.headers = Collections.unmodifiableMap(h);
        this.body = body.asReadOnlyBuffer();
        this.fromCache = fromCache;
        this.secretId = secretId;
        this.attempts = attempts;
        this.outcome = Objects.requireNonNull(outcome, "outcome");
    }

    /**
     * What the answer means, as {@link dev.proxymanager.middleware.health.OutcomeClassifier} decided it for the
     * secret's health (a 429 at a limit is {@code RATE_LIMITED}, not a ban); for a cached answer, its status
     * classified. Metrics and logs report this, so they agree with health.
     */
    public OutcomeKind outcome() {
        return outcome;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The first value of header {@code name} (any case), or null when absent. */
    public String header(String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    /** All headers, names lower-cased, looked up in any case; unmodifiable. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The header fields in the order received, repeated names ({@code Set-Cookie}) kept as separate fields. */
    public HttpHeaders headerFields() {
        return fields;
    }

    /** The body bytes (a copy). */
    public byte[] body() {
        byte[] copy = new byte[body.remaining()];
        body.duplicate().get(copy);
        return copy;
    }

    /** The body without a copy: a read-only view, positioned at its start (for large bodies, e.g. to relay them). */
    public ByteBuffer bodyBuffer() {
        return body.duplicate();
    }

    /** The body decoded with the charset of its {@code Content-Type}, UTF-8 when none is given. */
    public String bodyAsString() {
        Charset charset = StandardCharsets.UTF_8;
        String ct = header("content-type");
        if (ct != null) {
            try {
                Charset c = ContentType.parse(ct).getCharset();
                if (c != null) {
                    charset = c;
                }
            } catch (RuntimeException ignored) {
                // an unparseable or unknown charset: fall back to UTF-8 rather than fail reading
            }
        }
        return charset.decode(body.duplicate()).toString();
    }

    /** True when served from the cache without calling the upstream. */
    public boolean fromCache() {
        return fromCache;
    }

    /** The id of the secret used for the last attempt (never its value); null when served from the cache. */
    public String secretId() {
        return secretId;
    }

    /** Attempts made: 1 without retries, 0 when served from the cache. */
    public int attempts() {
        return attempts;
    }

    @Override
    public String toString() {
        return "Response[status=" + status + ", bytes=" + body.remaining() + ", fromCache=" + fromCache + ", secretId="
                + secretId + ", attempts=" + attempts + "]";
    }
}
