package dev.proxymanager.middleware.log;

import dev.proxymanager.middleware.cache.CacheStatus;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.health.OutcomeClassifier;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;

import java.net.URI;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One upstream attempt, or one call answered from the response cache, as recorded in the request log (field names in
 * {@link LogFields}). A call answered from the cache has {@code attempt} 0, {@code cache} {@code hit} or
 * {@code stale}, no secret and no {@code latency_ms}: it is not an upstream attempt, so upstream status and latency
 * figures leave it out by {@code attempt >= 1}. A call's {@code cache} value is written once, on its attempt 0 or 1
 * document: counting {@code cache} counts calls, a retry is not another miss. The URL must already
 * have its secrets redacted ({@link Redaction#url}) and {@code secretId} must be an id or a masked form
 * ({@link Redaction#mask}) — this record stores what it is given.
 *
 * <p>Required: timestamp, endpoint, method, url, attempt ≥ 0, outcome. The rest may be null (absent from the
 * document). Instances are immutable; build them with {@link #builder()}. This class is threadsafe.
 *
 * @param timestamp when the attempt was sent
 * @param instanceId which process wrote it
 * @param endpoint the endpoint name
 * @param method the upper-case HTTP method
 * @param url the request URL, secrets redacted
 * @param host the URL's host (derived from {@code url} when not set)
 * @param secretId the key's id or masked form
 * @param secretType {@code key} or {@code proxy}
 * @param proxyId the proxy's masked id
 * @param status the upstream status, null when no response came; for attempt 0 the status served from the cache
 * @param latencyMs milliseconds from send to full upstream response; must be null for attempt 0
 * @param bytes response body bytes
 * @param cache {@code hit}, {@code miss}, {@code bypass} or {@code stale}; dropped from retries (attempt ≥ 2)
 * @param attempt 0 when answered from the cache, 1 for the first upstream attempt, 2 for the first retry, …
 * @param outcome what the attempt came to, as {@link OutcomeClassifier} classified it (stored as its wire name)
 * @param errorType the error's type when no response came, e.g. {@code connect_timeout}
 * @param upstreamRemaining units the response reported left of the secret's binding quota (the one that binds
 *                          first, {@link QuotaReading#binding()}), null when it reported none
 * @param upstreamLimit that quota's size, null when not reported
 * @param upstreamReset when that quota resets, null when not reported
 */
public record RequestLogEntry(Instant timestamp, String instanceId, String endpoint, String method, String url,
                              String host, String secretId, String secretType, String proxyId, Integer status,
                              Long latencyMs, Long bytes, String cache, Integer attempt, OutcomeKind outcome,
                              String errorType, Long upstreamRemaining, Long upstreamLimit,
                              Instant upstreamReset) {

    /** Format version of request-log documents. */
    public static final int SCHEMA_VERSION = 2; // 2: cache-served calls are attempt 0; cache only on attempt 0 or 1

    public RequestLogEntry {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(outcome, "outcome");
        method = method.toUpperCase(Locale.ROOT);
        if (attempt == null) {
            attempt = 1;
        }
        if (attempt < 0) {
            throw new IllegalArgumentException("request log attempt must be >= 0, was " + attempt);
        }
        if (attempt == 0) {
            if (!CacheStatus.HIT.logValue().equals(cache) && !CacheStatus.STALE.logValue().equals(cache)) {
                throw new IllegalArgumentException("request log attempt 0 is a call answered from the cache: cache"
                        + " must be hit or stale, was " + cache);
            }
            if (latencyMs != null || secretId != null) {
                throw new IllegalArgumentException("request log attempt 0 made no upstream call: no latency_ms or"
                        + " secret_id, was " + latencyMs + " ms, secret " + secretId);
            }
        }
        if (attempt > 1) {
            cache = null; // the first attempt carries the call's cache status: a retry is not another miss
        }
        if (host == null) {
            host = hostOf(url);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The request-log document: field names from {@link LogFields}, null fields left out. */
    public Map<String, Object> toDocument() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(LogFields.TIMESTAMP, timestamp.toString());
        putIfSet(doc, LogFields.INSTANCE_ID, instanceId);
        doc.put(LogFields.ENDPOINT, endpoint);
        doc.put(LogFields.METHOD, method);
        doc.put(LogFields.URL, url);
        putIfSet(doc, LogFields.HOST, host);
        putIfSet(doc, LogFields.SECRET_ID, secretId);
        putIfSet(doc, LogFields.SECRET_TYPE, secretType);
        putIfSet(doc, LogFields.PROXY_ID, proxyId);
        putIfSet(doc, LogFields.STATUS, status);
        putIfSet(doc, LogFields.LATENCY_MS, latencyMs);
        putIfSet(doc, LogFields.BYTES, bytes);
        putIfSet(doc, LogFields.CACHE, cache);
        doc.put(LogFields.ATTEMPT, attempt);
        doc.put(LogFields.OUTCOME, outcome.wireName());
        putIfSet(doc, LogFields.ERROR_TYPE, errorType);
        putIfSet(doc, LogFields.UPSTREAM_REMAINING, upstreamRemaining);
        putIfSet(doc, LogFields.UPSTREAM_LIMIT, upstreamLimit);
        putIfSet(doc, LogFields.UPSTREAM_RESET, upstreamReset == null ? null : upstreamReset.toString());
        doc.put(LogFields.SCHEMA_VERSION, SCHEMA_VERSION);
        return doc;
    }

    static void putIfSet(Map<String, Object> doc, String field, Object value) {
        if (value != null) {
            doc.put(field, value);
        }
    }

    private static String hostOf(String url) {
        try {
            String h = URI.create(url).getHost();
            return h == null ? null : h.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Builds a {@link RequestLogEntry}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private Instant timestamp;
        private String instanceId;
        private String endpoint;
        private String method;
        private String url;
        private String host;
        private String secretId;
        private String secretType;
        private String proxyId;
        private Integer status;
        private Long latencyMs;
        private Long bytes;
        private String cache;
        private Integer attempt = 1;
        private OutcomeKind outcome;
        private String errorType;
        private Long upstreamRemaining;
        private Long upstreamLimit;
        private Instant upstreamReset;

        private Builder() {
        }

        public Builder withTimestamp(Instant timestamp) { this.timestamp = timestamp; return this; }
        public Builder withInstanceId(String instanceId) { this.instanceId = instanceId; return this; }
        public Builder withEndpoint(String endpoint) { this.endpoint = endpoint; return this; }
        public Builder withMethod(String method) { this.method = method; return this; }
        /** The URL with secrets already redacted. */
        public Builder withUrl(String url) { this.url = url; return this; }
        public Builder withHost(String host) { this.host = host; return this; }
        /** The secret's id or masked form, never its value. */
        public Builder withSecretId(String secretId) { this.secretId = secretId; return this; }
        public Builder withSecretType(String secretType) { this.secretType = secretType; return this; }
        public Builder withProxyId(String proxyId) { this.proxyId = proxyId; return this; }
        public Builder withStatus(Integer status) { this.status = status; return this; }
        public Builder withLatencyMs(Long latencyMs) { this.latencyMs = latencyMs; return this; }
        public Builder withBytes(Long bytes) { this.bytes = bytes; return this; }
        public Builder withCache(String cache) { this.cache = cache; return this; }
        public Builder withAttempt(int attempt) { this.attempt = attempt; return this; }
        public Builder withOutcome(OutcomeKind outcome) { this.outcome = outcome; return this; }
        public Builder withErrorType(String errorType) { this.errorType = errorType; return this; }

        /**
         * The quota the response reported: its binding quota ({@link QuotaReading#binding()}), whose reset is on
         * the engine's epoch-anchored clock; nothing when it reported none with a reset.
         */
        public Builder withUpstreamQuota(QuotaReading reading) {
            UpstreamQuota q = reading == null ? null : reading.binding();
            upstreamRemaining = q == null ? null : q.remaining();
            upstreamLimit = q == null || q.limit() < 0 ? null : q.limit();
            upstreamReset = q == null ? null : Clock.toInstant(q.resetAt());
            return this;
        }

        /**
         * @throws NullPointerException if timestamp, endpoint, method, url or outcome is missing
         * @throws IllegalArgumentException if attempt &lt; 0, or attempt 0 (answered from the cache) has a cache
         *                                  status other than hit or stale, a latency or a secret
         */
        public RequestLogEntry build() {
            return new RequestLogEntry(timestamp, instanceId, endpoint, method, url, host, secretId, secretType,
                    proxyId, status, latencyMs, bytes, cache, attempt, outcome, errorType, upstreamRemaining,
                    upstreamLimit, upstreamReset);
        }
    }
}
