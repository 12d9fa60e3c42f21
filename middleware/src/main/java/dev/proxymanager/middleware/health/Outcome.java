package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.config.BanBodyPattern;
import dev.proxymanager.middleware.quota.QuotaReading;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * What happened to a request made with a secret, reported when the lease is released: an HTTP status, a
 * connection error or a timeout, optionally with the upstream's {@code Retry-After}. {@link #unused()} says no
 * request went out with the secret (no health effect, and its use is withdrawn from the windows);
 * {@link #unanswered()} that one may have, with no answer to judge the secret by (no health effect, the use stays). What it means — a ban, a throttle, a failure — is decided by
 * {@link OutcomeClassifier} alone. Immutable and threadsafe.
 *
 * @param kind what happened
 * @param status HTTP status for {@link Kind#RESPONSE}, else 0
 * @param retryAfter the upstream's Retry-After, or {@code null}
 * @param bodyPrefix the start of the response body as text (at most
 *                   {@link dev.proxymanager.middleware.config.BanBodyPattern#SCAN_LIMIT} bytes), for
 *                   {@code ban_body_pattern}; {@code null} when not read
 * @param quota the quota the response reported ({@link QuotaReading#NONE} when none or not read)
 */
public record Outcome(Kind kind, int status, Duration retryAfter, String bodyPrefix, QuotaReading quota) {

    /** The kinds of outcome. */
    public enum Kind {
        /** The upstream answered with a status. */
        RESPONSE,
        /** The connection failed (refused, reset, TLS, proxy error). */
        CONNECTION_ERROR,
        /** Connect or read timed out. */
        TIMEOUT,
        /** The secret was handed out but no request went out with it: its use is given back to the store. */
        UNUSED,
        /**
         * The request may have gone out (or the secret was used otherwise) but came to nothing that says anything of
         * the secret: no health effect, as {@link #UNUSED}, but its use stays counted.
         */
        UNANSWERED
    }

    public Outcome {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(quota, "quota");
        if (kind == Kind.RESPONSE && (status < 100 || status > 599)) {
            throw new IllegalArgumentException("status must be an HTTP status 100-599, was " + status);
        }
        if (retryAfter != null && retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must be >= 0, was " + retryAfter);
        }
        if (bodyPrefix != null && kind != Kind.RESPONSE) {
            throw new IllegalArgumentException("only a response has a body, was " + kind);
        }
    }

    /** An outcome whose body was not read, without a quota reading. */
    public Outcome(Kind kind, int status, Duration retryAfter) {
        this(kind, status, retryAfter, null, QuotaReading.NONE);
    }

    /**
     * The upstream answered {@code status} with {@code body} (only its first
     * {@link dev.proxymanager.middleware.config.BanBodyPattern#SCAN_LIMIT} bytes are kept, decoded as UTF-8).
     */
    public static Outcome response(int status, Duration retryAfter, ByteBuffer body) {
        return new Outcome(Kind.RESPONSE, status, retryAfter, body == null ? null : bodyText(body), QuotaReading.NONE);
    }

    /** The first {@code SCAN_LIMIT} bytes of {@code body} as text; {@code body}'s position is not moved. */
    public static String bodyText(ByteBuffer body) {
        ByteBuffer b = body.duplicate();
        if (b.remaining() > BanBodyPattern.SCAN_LIMIT) {
            b.limit(b.position() + BanBodyPattern.SCAN_LIMIT);
        }
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    @Override
    public String toString() {
        // the body may be large or carry the site's data: its size only
        return "Outcome[kind=" + kind + ", status=" + status + ", retryAfter=" + retryAfter
                + (bodyPrefix == null ? "" : ", bodyPrefix=" + bodyPrefix.length() + " chars") + "]";
    }

    /** This outcome with the quota its response reported. */
    public Outcome withQuota(QuotaReading reading) {
        return new Outcome(kind, status, retryAfter, bodyPrefix, reading);
    }

    /** The upstream answered {@code status}. */
    public static Outcome status(int status) {
        return new Outcome(Kind.RESPONSE, status, null);
    }

    /** The upstream answered {@code status} with a {@code Retry-After} of {@code retryAfter}. */
    public static Outcome status(int status, Duration retryAfter) {
        return new Outcome(Kind.RESPONSE, status, retryAfter);
    }

    /** A 200 response. */
    public static Outcome success() {
        return status(200);
    }

    /** The connection failed. */
    public static Outcome connectionError() {
        return new Outcome(Kind.CONNECTION_ERROR, 0, null);
    }

    /** The request timed out. */
    public static Outcome timeout() {
        return new Outcome(Kind.TIMEOUT, 0, null);
    }

    /**
     * No request went out with the secret (nor could it have: the caller never had its value to place by hand, or
     * said it did not use it); releasing with this frees the lease and gives its use back
     * ({@code UsageStore.giveBack}), no health effect. Where a request may have been written, use
     * {@link #unanswered()}: a use the upstream counted must stay counted.
     */
    public static Outcome unused() {
        return new Outcome(Kind.UNUSED, 0, null);
    }

    /**
     * A request may have gone out with the secret, but nothing came back that says anything of it (interrupted, a
     * redirect refused, an outcome heard by another lease): frees the lease, no health effect, the use stays counted.
     */
    public static Outcome unanswered() {
        return new Outcome(Kind.UNANSWERED, 0, null);
    }
}
