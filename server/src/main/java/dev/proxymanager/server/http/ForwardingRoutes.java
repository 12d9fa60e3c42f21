package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.server.forward.ForwardRequest;
import dev.proxymanager.server.forward.ForwardResult;
import dev.proxymanager.server.forward.Forwarder;
import dev.proxymanager.server.limit.ConcurrencyLimiter;
import dev.proxymanager.server.metrics.ServerMetrics;
import dev.proxymanager.server.resilience.UpstreamBreakers;
import dev.proxymanager.server.security.HeaderPolicy;
import dev.proxymanager.server.security.TargetGuard;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The forwarding routes: {@code ANY /proxy/{endpoint}/{path...}} (reverse proxy to the endpoint's base_url) and
 * {@code POST /api/v1/send} (the original Flask endpoint: {@code {endpoint, method, url, headers, data, params}}).
 * Both run the same pipeline: SSRF guard → body limit → concurrency limiter (503 when the queue is full) → circuit
 * breaker (503 while open) → forwarder (429 when no secret is free) → streamed answer with {@code X-Cache} and the
 * secret's id in {@code X-Proxy-Manager-Secret}. Threadsafe.
 */
final class ForwardingRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingRoutes.class);
    /** Bodies up to this size are relayed in one write instead of through a stream and a copy buffer. */
    private static final int SINGLE_WRITE_BYTES = 64 * 1024;

    private final Forwarder forwarder;
    private final ConcurrencyLimiter limiter;
    private final UpstreamBreakers breakers;
    private final ServerMetrics metrics;
    private final TargetGuard guard;
    private final AdminGate gate;
    private final Supplier<Boolean> protect;
    private final Supplier<Duration> maxQueueWait;
    private final long maxRequestBytes;
    private final long maxResponseBytes;

    ForwardingRoutes(Forwarder forwarder, ConcurrencyLimiter limiter, UpstreamBreakers breakers, ServerMetrics metrics,
                     AdminGate gate, TargetGuard guard, Supplier<Boolean> protect, Supplier<Duration> maxQueueWait,
                     long maxRequestBytes, long maxResponseBytes) {
        this.guard = guard;
        this.forwarder = forwarder;
        this.limiter = limiter;
        this.breakers = breakers;
        this.metrics = metrics;
        this.gate = gate;
        this.protect = protect;
        this.maxQueueWait = maxQueueWait;
        this.maxRequestBytes = maxRequestBytes;
        this.maxResponseBytes = maxResponseBytes;
    }

    /** {@code /proxy/{endpoint}/{path...}}: {@code rest} is what follows {@code /proxy/}. */
    void proxy(Request request, Response response, Callback callback, String rest) throws Exception {
        long start = breakers.clock().nanoTime();
        if (protect.get() && !gate.permitsForwarding(request)) {
            unauthorized(response, callback);
            return;
        }
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        EndpointConfig endpoint = endpoint(name, response, callback);
        if (endpoint == null) {
            return;
        }
        if (endpoint.baseUrl() == null) {
            HttpExchange.error(response, callback, 400, "no_base_url", "endpoint '" + name
                    + "' has no base_url; use POST /api/v1/send with a full url");
            return;
        }
        String query = request.getHttpURI().getQuery();
        URI target;
        try {
            String base = endpoint.baseUrl().toString();
            if (base.endsWith("/") && path.startsWith("/")) {
                base = base.substring(0, base.length() - 1);
            }
            target = URI.create(base + path + (query == null ? "" : "?" + query));
        } catch (IllegalArgumentException e) {
            HttpExchange.error(response, callback, 400, "bad_path", "the path is not a valid URL path");
            return;
        }
        HttpHeaders.Builder headers = HttpHeaders.builder();
        boolean ourToken = gate.authorizationIsOurToken(request);
        for (HttpField f : request.getHeaders()) {
            if (HeaderPolicy.forwardsRequestHeader(f.getName(), ourToken)) {
                headers.add(f.getName(), f.getValue());
            }
        }
        byte[] body;
        try {
            body = HttpExchange.readBody(request, maxRequestBytes);
        } catch (HttpExchange.BodyTooLargeException e) {
            metrics.recordRejection("request_too_large");
            HttpExchange.error(response, callback, 413, "request_too_large", e.getMessage());
            return;
        }
        boolean useCache = !noCache(request.getHeaders().get(HttpHeader.CACHE_CONTROL));
        Integer cost = cost(request, response, callback);
        if (cost == null) {
            return;
        }
        run(new ForwardRequest(name, request.getMethod().toUpperCase(java.util.Locale.ROOT), target, headers.build(), body,
                useCache, cost),
                endpoint, response, callback, start);
    }

    /** {@code POST /api/v1/send}. */
    void send(Request request, Response response, Callback callback) throws Exception {
        long start = breakers.clock().nanoTime();
        if (protect.get() && !gate.permitsForwarding(request)) {
            unauthorized(response, callback);
            return;
        }
        if (!request.getMethod().equals("POST")) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            HttpExchange.error(response, callback, 405, "method_not_allowed", "use POST /api/v1/send");
            return;
        }
        JsonNode json;
        try {
            json = HttpExchange.JSON.readTree(HttpExchange.readBody(request, maxRequestBytes));
        } catch (HttpExchange.BodyTooLargeException e) {
            metrics.recordRejection("request_too_large");
            HttpExchange.error(response, callback, 413, "request_too_large", e.getMessage());
            return;
        } catch (IOException e) {
            HttpExchange.error(response, callback, 400, "bad_json", "the body must be JSON {endpoint, method, url, "
                    + "headers, data, params}");
            return;
        }
        if (json == null || !json.isObject() || !json.path("endpoint").isTextual()) {
            HttpExchange.error(response, callback, 400, "bad_request", "endpoint is required (a string)");
            return;
        }
        String name = json.get("endpoint").asText();
        EndpointConfig endpoint = endpoint(name, response, callback);
        if (endpoint == null) {
            return;
        }
        String method = json.path("method").asText("GET").toUpperCase(java.util.Locale.ROOT);
        if (!method.matches("[A-Z]{1,16}")) {
            HttpExchange.error(response, callback, 400, "bad_request", "method must be an HTTP method like GET, was '"
                    + method + "'");
            return;
        }
        String url = json.path("url").asText("");
        URI target;
        try {
            URI u = URI.create(url);
            if (!u.isAbsolute()) {
                if (endpoint.baseUrl() == null) {
                    throw new IllegalArgumentException("relative url without base_url");
                }
                String base = endpoint.baseUrl().toString();
                u = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
                        + (url.startsWith("/") || url.isEmpty() ? url : "/" + url));
            }
            JsonNode params = json.path("params");
            if (params.isObject() && !params.isEmpty()) {
                StringBuilder q = new StringBuilder(u.getRawQuery() == null ? "" : u.getRawQuery());
                for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> p = it.next();
                    if (!q.isEmpty()) {
                        q.append('&');
                    }
                    q.append(URLEncoder.encode(p.getKey(), StandardCharsets.UTF_8)).append('=')
                            .append(URLEncoder.encode(p.getValue().asText(), StandardCharsets.UTF_8));
                }
                String s = u.toString();
                int cut = s.indexOf('?') >= 0 ? s.indexOf('?') : (s.indexOf('#') >= 0 ? s.indexOf('#') : s.length());
                u = URI.create(s.substring(0, cut) + "?" + q);
            }
            target = u;
        } catch (IllegalArgumentException e) {
            HttpExchange.error(response, callback, 400, "bad_url", "url must be an absolute URL or a path under the "
                    + "endpoint's base_url");
            return;
        }
        HttpHeaders.Builder headers = HttpHeaders.builder();
        boolean hasContentType = false;
        JsonNode h = json.path("headers");
        if (h.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                // a JSON object cannot repeat a name: an array value sends one field per element (two Cookie fields)
                List<String> values = new ArrayList<>();
                if (e.getValue().isArray()) {
                    e.getValue().forEach(v -> values.add(v.asText()));
                } else {
                    values.add(e.getValue().asText());
                }
                for (String value : values) {
                    if (HeaderPolicy.hasLineBreak(e.getKey()) || HeaderPolicy.hasLineBreak(value)) {
                        metrics.recordRejection("bad_header");
                        HttpExchange.error(response, callback, 400, "bad_header", "header "
                                + e.getKey().replaceAll("[\\r\\n]", "") + " contains CR or LF");
                        return;
                    }
                    if (HeaderPolicy.forwardsRequestHeader(e.getKey(), false)) {
                        headers.add(e.getKey(), value);
                        hasContentType |= e.getKey().equalsIgnoreCase("content-type");
                    }
                }
            }
        }
        byte[] body = new byte[0];
        JsonNode data = json.path("data");
        if (data.isTextual()) {
            body = data.asText().getBytes(StandardCharsets.UTF_8);
        } else if (data.isContainerNode()) {
            body = HttpExchange.JSON.writeValueAsBytes(data);
            if (!hasContentType) {
                headers.add("Content-Type", "application/json");
            }
        }
        Integer cost = cost(request, response, callback);
        if (cost == null) {
            return;
        }
        run(new ForwardRequest(name, method, target, headers.build(), body, true, cost), endpoint, response, callback,
                start);
    }

    /** The call's cost from {@code X-Proxy-Manager-Cost} (0: none set); null after answering 400 for a bad one. */
    private Integer cost(Request request, Response response, Callback callback) {
        try {
            return ProxyManagerHeaders.cost(request.getHeaders().get(ProxyManagerHeaders.COST));
        } catch (dev.proxymanager.middleware.config.ConfigException e) {
            metrics.recordRejection("bad_cost");
            HttpExchange.error(response, callback, 400, "bad_cost", e.getMessage());
            return null;
        }
    }

    private void run(ForwardRequest fr, EndpointConfig endpoint, Response response, Callback callback, long start)
            throws Exception {
        // before any secret is picked: a refused target spends no key and says nothing about one
        TargetGuard.Refusal refusal = guard.check(fr.target(), endpoint);
        if (refusal != null) {
            refuseTarget(fr, refusal.reason(), response, callback, start);
            return;
        }
        ConcurrencyLimiter.Permit permit = limiter.tryAcquire(maxQueueWait.get());
        if (permit == null) {
            metrics.recordRejection("queue_full");
            finish(fr.endpoint(), 503, "queue_full", start);
            HttpExchange.errorRetryAfter(response, callback, 503, "overloaded", "too many requests in flight and in the "
                    + "queue (max_concurrent_requests " + limiter.maxConcurrent() + ", max_queue_size "
                    + limiter.maxQueue() + "); retry later", ConcurrencyLimiter.RETRY_AFTER);
            return;
        }
        try (permit) {
            CircuitBreaker breaker = breakers.forEndpoint(fr.endpoint());
            if (!breaker.tryAcquirePermission()) {
                metrics.recordRejection("circuit_open");
                finish(fr.endpoint(), 503, "circuit_open", start);
                HttpExchange.errorRetryAfter(response, callback, 503, "circuit_open", "the circuit breaker of endpoint '"
                        + fr.endpoint() + "' is open after repeated upstream failures; retry later", breakers.retryAfter());
                return;
            }
            long callStart = breakers.clock().nanoTime();
            ForwardResult result;
            try {
                result = forwarder.forward(fr);
            } catch (dev.proxymanager.middleware.rotation.CostTooLargeException e) {
                // the client's cost: refused before any store call, nothing about the upstream
                breaker.releasePermission();
                metrics.recordRejection("cost_too_large");
                finish(fr.endpoint(), 400, "cost_too_large", start);
                HttpExchange.error(response, callback, 400, "cost_too_large", e.getMessage());
                return;
            } catch (RuntimeException e) {
                breaker.onError(breakers.clock().nanoTime() - callStart, TimeUnit.NANOSECONDS, e);
                throw e;
            }
            long elapsed = breakers.clock().nanoTime() - callStart;
            switch (result) {
                case ForwardResult.Refused r -> {
                    breaker.releasePermission();
                    refuseTarget(fr, r.reason(), response, callback, start);
                }
                case ForwardResult.NoSecret n -> {
                    breaker.releasePermission();
                    metrics.recordRejection("no_secret");
                    finish(fr.endpoint(), 429, "no_secret", start);
                    HttpExchange.errorRetryAfter(response, callback, 429, "no_secret_available", n.reason(), n.retryAfter());
                }
                case ForwardResult.Failed f -> {
                    breakers.record(breaker, f.outcome(), elapsed, f.reason());
                    int status = f.timeout() ? 504 : 502;
                    finish(fr.endpoint(), status, f.outcome(), start);
                    HttpExchange.error(response, callback, status, f.timeout() ? "upstream_timeout" : "bad_gateway",
                            f.reason() + " after " + f.attempts() + " attempt(s)");
                }
                case ForwardResult.Response r -> {
                    breakers.record(breaker, r.outcome(), elapsed, "upstream status " + r.status());
                    metrics.recordCache(fr.endpoint(), r.cacheHit());
                    if (r.secretId() != null) {
                        metrics.recordSecretUse(fr.endpoint(), r.secretId());
                    }
                    relay(r, response, callback);
                    finish(fr.endpoint(), r.status(), r.outcome(), start);
                }
            }
        }
    }

    private void refuseTarget(ForwardRequest fr, String reason, Response response, Callback callback, long start) {
        metrics.recordRejection("forbidden_target");
        LOG.atWarn().setMessage("refused target").addKeyValue("endpoint", fr.endpoint())
                .addKeyValue("host", fr.target().getHost()).addKeyValue("reason", reason).log();
        finish(fr.endpoint(), 403, "refused", start);
        HttpExchange.error(response, callback, 403, "forbidden_target", reason);
    }

    private void relay(ForwardResult.Response r, Response response, Callback callback) {
        try (InputStream in = r.body()) {
            if (r.contentLength() > maxResponseBytes) {
                metrics.recordRejection("response_too_large");
                HttpExchange.error(response, callback, 502, "response_too_large", "the upstream response is larger than "
                        + "max_response_bytes (" + maxResponseBytes + " bytes)");
                return;
            }
            response.setStatus(r.status());
            for (HttpHeaders.Field h : r.headers().fields()) {
                if (HeaderPolicy.forwardsResponseHeader(h.name()) && !HeaderPolicy.hasLineBreak(h.value())) {
                    response.getHeaders().add(h.name(), h.value());
                }
            }
            response.getHeaders().put("X-Cache", r.cacheHit() ? "HIT" : "MISS");
            if (r.secretId() != null) {
                response.getHeaders().put(ProxyManagerHeaders.SECRET, ProxyManagerHeaders.secretId(r.secretId()));
            }
            if (r.contentLength() >= 0) {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, r.contentLength());
            }
            if (r.contentLength() >= 0 && r.contentLength() <= SINGLE_WRITE_BYTES) {
                // a body known and small: one non-blocking write that also completes the response
                response.write(true, ByteBuffer.wrap(in.readNBytes((int) r.contentLength())), callback);
                return;
            }
            long total = 0;
            try (OutputStream out = Content.Sink.asOutputStream(response)) {
                byte[] buf = new byte[16384];
                int n;
                while ((n = in.read(buf)) > 0) {
                    total += n;
                    if (total > maxResponseBytes) {
                        throw new IOException("upstream response exceeded max_response_bytes (" + maxResponseBytes + ")");
                    }
                    out.write(buf, 0, n);
                }
            }
            callback.succeeded();
        } catch (IOException e) {
            // the status is on the wire already: abort the response so the client sees a truncated body
            callback.failed(e);
        }
    }

    private void finish(String endpoint, int status, String outcome, long start) {
        metrics.recordRequest(endpoint, status, outcome, breakers.clock().nanoTime() - start);
    }

    private void finish(String endpoint, int status, OutcomeKind outcome, long start) {
        metrics.recordRequest(endpoint, status, outcome, breakers.clock().nanoTime() - start);
    }

    private EndpointConfig endpoint(String name, Response response, Callback callback) {
        try {
            return forwarder.endpointConfig(name);
        } catch (Forwarder.UnknownEndpointException e) {
            HttpExchange.error(response, callback, 404, "unknown_endpoint", e.getMessage());
            return null;
        }
    }

    private static boolean noCache(String cacheControl) {
        return cacheControl != null && cacheControl.toLowerCase(java.util.Locale.ROOT).contains("no-cache");
    }

    static void unauthorized(Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"proxy-manager\"");
        HttpExchange.error(response, callback, 401, "unauthorized", "this route needs Authorization: Bearer <token>");
    }
}
