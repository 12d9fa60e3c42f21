package dev.proxymanager.server.forward;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Forwarder} answers: an upstream {@link Response}, {@link NoSecret} when every secret is at its limit
 * (the server answers 429 with Retry-After), {@link Failed} when the upstream could not be reached (502/504), or
 * {@link Refused} when the transport's guard refused the origin or the address connected to (403).
 * Expected outcomes are values, not exceptions.
 */
public sealed interface ForwardResult permits ForwardResult.Response, ForwardResult.NoSecret, ForwardResult.Failed,
        ForwardResult.Refused {

    /**
     * The upstream's answer.
     *
     * @param status the HTTP status
     * @param headers response headers (hop-by-hop ones are dropped by the server)
     * @param body the body, streamed; the server closes it
     * @param contentLength the declared length, or -1
     * @param cacheHit whether the response came from the cache
     * @param secretId the id (or masked form) of the secret used, never its value; {@code null} on a cache hit
     * @param attempts upstream attempts made (1 without retries)
     */
    record Response(int status, List<Map.Entry<String, String>> headers, InputStream body, long contentLength,
                    boolean cacheHit, String secretId, int attempts) implements ForwardResult {
        public Response {
            headers = List.copyOf(headers);
            Objects.requireNonNull(body, "body");
        }
    }

    /** No secret may be used now; {@code retryAfter} is when the first one frees up. */
    record NoSecret(String reason, Duration retryAfter) implements ForwardResult {
    }

    /**
     * The upstream could not answer: connection refused, a timeout, or retries used up.
     *
     * @param timeout whether the last attempt timed out (the server answers 504 rather than 502)
     * @param reason a sentence without secrets
     */
    record Failed(boolean timeout, String reason, int attempts) implements ForwardResult {
    }

    /** The target guard refused the exchange inside the transport (a redirect elsewhere, a rebound address). */
    record Refused(String reason) implements ForwardResult {
    }
}
