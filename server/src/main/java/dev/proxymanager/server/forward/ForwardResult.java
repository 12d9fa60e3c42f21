package dev.proxymanager.server.forward;

import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.health.OutcomeKind;

import java.io.InputStream;
import java.time.Duration;
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
     * @param headers response header fields in order, repeated names ({@code Set-Cookie}) kept; hop-by-hop ones are
     *                dropped by the server
     * @param body the body, streamed; the server closes it
     * @param contentLength the declared length, or -1
     * @param cacheHit whether the response came from the cache
     * @param secretId the id (or masked form) of the secret used, never its value; {@code null} on a cache hit
     * @param attempts upstream attempts made (1 without retries)
     * @param outcome what the status means, as {@link dev.proxymanager.middleware.health.OutcomeClassifier} says
     *                under the endpoint's health policy
     */
    record Response(int status, HttpHeaders headers, InputStream body, long contentLength,
                    boolean cacheHit, String secretId, int attempts, OutcomeKind outcome) implements ForwardResult {
        public Response {
            Objects.requireNonNull(headers, "headers");
            Objects.requireNonNull(body, "body");
            Objects.requireNonNull(outcome, "outcome");
        }
    }

    /** No secret may be used now; {@code retryAfter} is when the first one frees up. */
    record NoSecret(String reason, Duration retryAfter) implements ForwardResult {
    }

    /**
     * The upstream could not answer: connection refused, a timeout, or retries used up.
     *
     * @param outcome {@link OutcomeKind#TIMEOUT} or {@link OutcomeKind#CONNECTION_ERROR}
     * @param reason a sentence without secrets
     */
    record Failed(OutcomeKind outcome, String reason, int attempts) implements ForwardResult {
        public Failed {
            if (outcome != OutcomeKind.TIMEOUT && outcome != OutcomeKind.CONNECTION_ERROR) {
                throw new IllegalArgumentException("a failed forward is a timeout or a connection error, was "
                        + outcome);
            }
        }

        /** Whether the last attempt timed out (the server answers 504 rather than 502). */
        public boolean timeout() {
            return outcome == OutcomeKind.TIMEOUT;
        }
    }

    /** The target guard refused the exchange inside the transport (a redirect elsewhere, a rebound address). */
    record Refused(String reason) implements ForwardResult {
    }
}
