package dev.proxymanager.middleware;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.cache.CacheMode;
import dev.proxymanager.middleware.cache.CacheResult;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.Sleeper;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.health.OutcomeClassifier;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.log.Redaction;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.CallRoute;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.rotation.UseNotAdmittedException;
import dev.proxymanager.middleware.rotation.UseStamp;
import dev.proxymanager.middleware.transport.Backoff;
import dev.proxymanager.middleware.transport.ForbiddenTargetException;
import dev.proxymanager.middleware.transport.HttpTransport;
import dev.proxymanager.middleware.transport.TransportRequest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.hc.core5.net.URIBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one call: the cache first (when configured), then attempts on leased secrets with retries on another
 * secret, each attempt's outcome released to the engine and recorded in the request log. Threadsafe.
 */
final class Dispatcher {

    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    /** Where an attempt's secret comes from: the request's sticky lease first, then the engine. */
    interface LeaseSource {
        /** A lease for the next attempt of a call of {@code route}; {@code retry} is true after a failed attempt. */
        SecretLease next(EndpointConfig endpoint, boolean retry, CallRoute route);
    }

    private final RotationEngine engine;
    private final HttpTransport transport;
    private final ResponseCache cache;
    private final RequestLog log;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Duration maxWait;
    private final String instanceId;

    Dispatcher(RotationEngine engine, HttpTransport transport, ResponseCache cache, RequestLog log, Clock clock,
               Sleeper sleeper, Duration maxWait, String instanceId) {
        this.engine = engine;
        this.transport = transport;
        this.cache = cache;
        this.log = log;
        this.clock = clock;
        this.sleeper = sleeper;
        this.maxWait = maxWait;
        this.instanceId = instanceId;
    }

    /**
     * A lease of {@code endpoint}, waiting for the engine's retryAfter while the total wait stays within the bound.
     *
     * @throws NoSecretAvailableException when none frees up within the bound
     */
    SecretLease acquire(String endpoint) {
        return acquire(endpoint, null);
    }

    /** As {@link #acquire(String)}, preferring secret {@code preferredId} when it is usable. */
    SecretLease acquire(String endpoint, String preferredId) {
        return acquire(endpoint, preferredId, CallRoute.UNKNOWN);
    }

    /**
     * As {@link #acquire(String, String)} for a call of {@code route} (its route buckets and cost).
     *
     * @throws dev.proxymanager.middleware.rotation.CostTooLargeException when no limit could ever admit its cost
     */
    SecretLease acquire(String endpoint, String preferredId, CallRoute route) {
        long deadline = clock.nanoTime() + maxWait.toNanos();
        while (true) {
            switch (engine.acquire(endpoint, preferredId, route)) {
                case AcquireResult.Granted g -> {
                    return g.lease();
                }
                case AcquireResult.Denied d -> {
                    Duration wait = d.retryAfter().isPositive() ? d.retryAfter() : Duration.ofMillis(1);
                    long now = clock.nanoTime();
                    if (now + wait.toNanos() > deadline) {
                        throw new NoSecretAvailableException(endpoint, d.reason(), d.retryAfter());
                    }
                    sleepOrThrow(wait);
                }
            }
        }
    }

    Response send(EndpointConfig endpoint, Call call, boolean useCache, LeaseSource leases) throws IOException {
        TransportRequest request = prepare(call);
        Attempts attempts = new Attempts();
        boolean cacheable = useCache && cache != null && endpoint.cache().enabled();
        if (!cacheable) {
            CachedResponse r = attempt(endpoint, request, call, leases, attempts, "bypass");
            return new Response(r.status(), r.headerFields(), r.bodyBuffer(), false, attempts.secretId, attempts.count,
                    attempts.outcome);
        }
        SendOptions o = call.options();
        CacheMode mode = o.noCache() ? CacheMode.BYPASS : o.refresh() ? CacheMode.REFRESH
                : CacheMode.fromRequestCacheControl(request.headers().first("Cache-Control").orElse(null));
        CacheKey key = cacheKey(endpoint, request, call);
        String logCache = mode == CacheMode.NORMAL ? "miss" : "bypass";
        CacheResult result = cache.fetch(key, endpoint.cache(), mode,
                () -> attempt(endpoint, request, call, leases, attempts, logCache),
                response -> attempts.outcome != OutcomeKind.BANNED); // a block page served with 200 is not the answer to cache
        CachedResponse r = result.response();
        if (result.fromCache()) {
            OutcomeKind kind = OutcomeClassifier.classifyStatus(r.status(), endpoint.health());
            // not an upstream attempt: attempt 0 and no latency keep it out of upstream status and latency figures
            record(endpoint, request, null, r.status(), null, r.bodyLength(), result.status().logValue(), 0, kind,
                    null);
            return new Response(r.status(), r.headerFields(), r.bodyBuffer(), true, null, 0, kind);
        }
        // another caller's fetch may have answered this one (no attempt of its own): its status says what it is
        OutcomeKind kind = attempts.outcome != null ? attempts.outcome
                : OutcomeClassifier.classifyStatus(r.status(), endpoint.health());
        return new Response(r.status(), r.headerFields(), r.bodyBuffer(), false, attempts.secretId, attempts.count,
                kind);
    }

    private static final class Attempts {
        int count;
        String secretId;
        OutcomeKind outcome; // of the attempt whose answer is returned
    }

    private CachedResponse attempt(EndpointConfig endpoint, TransportRequest request, Call call, LeaseSource leases,
                                   Attempts attempts, String logCache) throws IOException {
        int maxAttempts = 1 + endpoint.retry().maxRetries();
        boolean mayRetry = IDEMPOTENT.contains(request.method()) || endpoint.retry().retryNonIdempotent();
        Backoff backoff = new Backoff(endpoint.retry(), ThreadLocalRandom.current());
        Duration timeout = call.options().timeout() != null ? call.options().timeout() : endpoint.timeouts().read();
        CallRoute route = new CallRoute(request.method(), pathOf(request.uri()), call.options().cost());
        CachedResponse lastResponse = null;
        IOException lastFailure = null;
        for (int attempt = 1; ; attempt++) {
            SecretLease lease;
            try {
                lease = leases.next(endpoint, attempt > 1, route);
            } catch (NoSecretAvailableException e) {
                // no other secret to retry on: what the last attempt got says more than "none available"
                if (lastResponse != null) {
                    return lastResponse;
                }
                if (lastFailure != null) {
                    lastFailure.addSuppressed(e);
                    throw lastFailure;
                }
                throw e;
            }
            attempts.count = attempt;
            attempts.secretId = lease.secretId();
            long start = clock.nanoTime();
            boolean last = attempt >= maxAttempts || !mayRetry;
            UseStamp stamp = new UseStamp(engine, lease, sleeper, maxWait);
            try {
                CachedResponse r = transport.execute(request, lease, endpoint, timeout, stamp);
                Duration retryAfter = retryAfter(r.header("retry-after").orElse(null));
                Outcome outcome = Outcome.response(r.status(), retryAfter,
                                OutcomeClassifier.needsBody(endpoint.health()) ? r.bodyBuffer() : null)
                        .withQuota(endpoint.quotaHeaders().read(r.headerFields(), endpoint.costHeader(),
                                clock.nanoTime()));
                OutcomeKind kind = engine.release(lease, outcome); // classified knowing the secret's windows
                attempts.outcome = kind;
                record(endpoint, request, lease, r.status(), elapsedMs(start), r.bodyLength(), logCache, attempt,
                        kind, null, outcome.quota());
                if (!kind.retryableOnAnotherSecret() || last) {
                    return r;
                }
                lastResponse = r;
                lastFailure = null;
                LOG.debug("endpoint {} secret {} answered {}; retrying on another secret (attempt {})",
                        endpoint.name(), lease.secretId(), r.status(), attempt + 1);
            } catch (ForbiddenTargetException e) {
                // the caller chose the target: its refusal says nothing of the secret, and no retry is allowed;
                // refused on a redirect, the first hop went out and its use stays counted
                engine.release(lease, stamp.writeCleared() ? Outcome.unanswered() : Outcome.unused());
                record(endpoint, request, lease, null, elapsedMs(start), 0, logCache, attempt,
                        OutcomeKind.REFUSED, "forbidden_target");
                throw e;
            } catch (SocketTimeoutException e) {
                engine.release(lease, Outcome.timeout());
                record(endpoint, request, lease, null, elapsedMs(start), 0, logCache, attempt,
                        OutcomeClassifier.classify(Outcome.timeout(), endpoint.health()), "response_timeout");
                if (last) {
                    throw e;
                }
                lastFailure = e;
                lastResponse = null;
            } catch (InterruptedIOException e) {
                // interrupted anywhere, mid-write included (or mid-CONNECT through a proxy): the use stays counted
                engine.release(lease, Outcome.unanswered());
                throw e;
            } catch (UseNotAdmittedException e) {
                // not the secret's fault, no ban; refused before its first write, nothing went out: the use is given
                // back (a redirect's hop refused after the first went out keeps it)
                engine.release(lease, stamp.writeCleared() ? Outcome.unanswered() : Outcome.unused());
                if (last) {
                    throw e;
                }
                lastFailure = e;
                lastResponse = null;
            } catch (IOException e) {
                engine.release(lease, Outcome.connectionError());
                // logged as what it is (error), though health may count it as a ban (ban_on_connection_error)
                record(endpoint, request, lease, null, elapsedMs(start), 0, logCache, attempt,
                        OutcomeKind.CONNECTION_ERROR, e.getClass().getSimpleName());
                if (last) {
                    throw e;
                }
                lastFailure = e;
                lastResponse = null;
                LOG.debug("endpoint {} secret {} failed ({}); retrying on another secret", endpoint.name(),
                        lease.secretId(), e.toString());
            } catch (RuntimeException e) {
                // an unexpected failure may come after the write: the use stays counted
                engine.release(lease, Outcome.unanswered());
                throw e;
            }
            sleepOrThrow(backoff.delay(attempt));
        }
    }

    private void sleepOrThrow(Duration d) {
        try {
            sleeper.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new InterruptedIOException("interrupted while waiting to retry"));
        }
    }

    private long elapsedMs(long startNanos) {
        return Math.max(0, (clock.nanoTime() - startNanos) / 1_000_000);
    }

    private void record(EndpointConfig endpoint, TransportRequest request, SecretLease lease, Integer status,
                        Long latencyMs, long bytes, String cacheStatus, int attempt, OutcomeKind outcome,
                        String error) {
        record(endpoint, request, lease, status, latencyMs, bytes, cacheStatus, attempt, outcome, error,
                QuotaReading.NONE);
    }

    private void record(EndpointConfig endpoint, TransportRequest request, SecretLease lease, Integer status,
                        Long latencyMs, long bytes, String cacheStatus, int attempt, OutcomeKind outcome,
                        String error, QuotaReading quota) {
        if (log == null) {
            return;
        }
        try {
            RequestLogEntry.Builder b = RequestLogEntry.builder()
                    .withTimestamp(clock.now())
                    .withInstanceId(instanceId)
                    .withEndpoint(endpoint.name())
                    .withMethod(request.method())
                    .withUrl(Redaction.url(request.uri(), secretParameters(endpoint)))
                    .withSecretType(endpoint.type().jsonName())
                    .withStatus(status)
                    .withLatencyMs(latencyMs)
                    .withBytes(bytes)
                    .withCache(cacheStatus)
                    .withAttempt(attempt)
                    .withOutcome(outcome)
                    .withErrorType(error)
                    .withUpstreamQuota(quota);
            if (lease != null) {
                b.withSecretId(lease.secretId());
                if (lease.type() == SecretType.PROXY) {
                    b.withProxyId(lease.secretId());
                }
            }
            log.record(b.build());
        } catch (RuntimeException e) {
            // the request log never fails a request
            LOG.warn("request log entry for endpoint {} not recorded: {}", endpoint.name(), e.toString());
        }
    }

    private static List<String> secretParameters(EndpointConfig endpoint) {
        KeyPlacement k = endpoint.key();
        return k != null && !k.inHeader() ? List.of(k.queryParameter()) : List.of();
    }

    static CacheKey cacheKey(EndpointConfig endpoint, TransportRequest request, Call call) {
        Map<String, List<String>> headers = request.headers().toMultimap();
        CacheKey.Builder b = CacheKey.builder(request.method(), request.uri().toString())
                .withEndpoint(endpoint.name())
                .withHeaders(headers)
                .withVaryHeaders(endpoint.cache().varyHeaders())
                .withSecretQueryParameters(secretParameters(endpoint));
        if (endpoint.key() != null && endpoint.key().inHeader()) {
            b.withSecretHeaders(List.of(endpoint.key().header()));
        }
        if (request.body() != null) {
            b.withBody(request.body(), request.contentType());
        }
        return b.build();
    }

    /** The path a route {@code match} is checked against: the raw path without the query, {@code /} when empty. */
    static String pathOf(URI uri) {
        String p = uri.getRawPath();
        return p == null || p.isEmpty() ? "/" : p;
    }

    /** Parses {@code Retry-After}: delta-seconds or an HTTP date; null when absent or unreadable. */
    Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = DateTimeFormatter.RFC_1123_DATE_TIME.parse(v, Instant::from);
                Duration d = Duration.between(clock.now(), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException unreadable) {
                return null;
            }
        }
    }

    /**
     * The request with its query parameters merged into the URL and its body encoded.
     *
     * @throws IllegalArgumentException for a relative or malformed URL, or a body of an unsupported type
     */
    static TransportRequest prepare(Call call) {
        URI uri;
        try {
            if (call.params() == null || call.params().isEmpty()) {
                // what URIBuilder builds from a URL it is given unchanged, at a third of the cost
                uri = new URI(call.url());
            } else {
                URIBuilder ub = new URIBuilder(call.url());
                call.params().forEach(ub::addParameter);
                uri = ub.build();
            }
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("url is not a valid URL: " + Redaction.url(call.url(), List.of())
                    + " (" + e.getReason() + ")", e);
        }
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new IllegalArgumentException("url must be absolute (scheme and host), was "
                    + Redaction.url(call.url(), List.of()));
        }
        String declared = call.headers().first("Content-Type").orElse(null);
        HttpHeaders sendHeaders = call.headers().without("Content-Type");
        Object body = call.body();
        byte[] bytes;
        String contentType;
        switch (body) {
            case null -> {
                bytes = null;
                contentType = declared;
            }
            case String s -> {
                bytes = s.getBytes(StandardCharsets.UTF_8);
                contentType = declared != null ? declared : "text/plain; charset=UTF-8";
            }
            case byte[] b -> {
                bytes = b; // not copied: a large body is held once (the caller hands it over, see Call#body)
                contentType = declared != null ? declared : "application/octet-stream";
            }
            case JsonNode n -> {
                try {
                    bytes = JSON.writeValueAsBytes(n);
                } catch (IOException e) {
                    throw new IllegalArgumentException("JSON body cannot be written: " + e.getMessage(), e);
                }
                contentType = declared != null ? declared : "application/json";
            }
            case Map<?, ?> form -> {
                List<String> parts = new ArrayList<>();
                form.forEach((k, v) -> parts.add(URLEncoder.encode(String.valueOf(k), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8)));
                bytes = String.join("&", parts).getBytes(StandardCharsets.UTF_8);
                contentType = declared != null ? declared : "application/x-www-form-urlencoded";
            }
            default -> throw new IllegalArgumentException("body must be a String, byte[], Map (form) or JsonNode, was "
                    + body.getClass().getName());
        }
        return new TransportRequest(call.method().toUpperCase(Locale.ROOT), uri, sendHeaders, bytes, contentType);
    }
}
