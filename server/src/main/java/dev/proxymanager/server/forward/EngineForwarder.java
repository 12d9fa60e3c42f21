package dev.proxymanager.server.forward;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.RetryPolicy;
import dev.proxymanager.middleware.config.SecretType;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.rotation.SecretStats;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@link Forwarder} over the rotation engine and one pooled Apache HttpClient 5: each attempt acquires a secret,
 * injects the key (header or query parameter) or routes through the proxy (a route planner reads the proxy from the
 * request context), and reports the outcome back to the engine. Failed attempts (connection errors, timeouts, 429
 * and 5xx) are retried on another secret with exponential backoff and full jitter, idempotent methods only unless
 * the endpoint's retry policy allows others. Responses stream; the lease is released as soon as the status is known.
 *
 * <p>This class is threadsafe.
 */
public final class EngineForwarder implements Forwarder {

    private static final Logger LOG = LoggerFactory.getLogger(EngineForwarder.class);
    private static final String PROXY_ATTRIBUTE = "proxy-manager.proxy";
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

    private final RotationEngine engine;
    private final CloseableHttpClient client;
    private final Integer retriesOverride;
    private final Duration defaultConnectTimeout;
    private final Duration defaultReadTimeout;

    /**
     * @param engine the rotation engine holding the endpoints
     * @param maxConnections pooled connections in total (and per route)
     * @param connectTimeout connect timeout when an endpoint does not set one
     * @param readTimeout read timeout when an endpoint does not set one
     * @param retriesOverride retries replacing every endpoint's {@code max_retries}, or {@code null}
     */
    public EngineForwarder(RotationEngine engine, int maxConnections, Duration connectTimeout, Duration readTimeout,
                           Integer retriesOverride) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.retriesOverride = retriesOverride;
        this.defaultConnectTimeout = connectTimeout;
        this.defaultReadTimeout = readTimeout;
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(maxConnections)
                .setMaxConnPerRoute(maxConnections)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(connectTimeout))
                        .setSocketTimeout(Timeout.of(readTimeout))
                        .build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
                .setRoutePlanner(new DefaultRoutePlanner(null) {
                    @Override
                    protected HttpHost determineProxy(HttpHost target, HttpContext context) {
                        Object proxy = context.getAttribute(PROXY_ATTRIBUTE);
                        return proxy instanceof HttpHost h ? h : null;
                    }
                })
                // the server relays what the upstream said: no redirects followed, no decompression, no cookies,
                // and retries happen here, on another secret
                .disableRedirectHandling()
                .disableContentCompression()
                .disableCookieManagement()
                .disableAutomaticRetries()
                .build();
    }

    @Override
    public ForwardResult forward(ForwardRequest request) {
        EndpointConfig endpoint = endpointConfig(request.endpoint());
        RetryPolicy retry = endpoint.retry();
        int maxRetries = retriesOverride != null ? retriesOverride : retry.maxRetries();
        if (!IDEMPOTENT.contains(request.method()) && !retry.retryNonIdempotent()) {
            maxRetries = 0;
        }
        ForwardResult last = null;
        for (int attempt = 1; attempt <= maxRetries + 1; attempt++) {
            if (attempt > 1) {
                backoff(retry, attempt - 1);
            }
            AcquireResult acquired = engine.acquire(endpoint.name());
            if (acquired instanceof AcquireResult.Denied denied) {
                if (last == null) {
                    return new ForwardResult.NoSecret(denied.reason(), denied.retryAfter());
                }
                return last;
            }
            SecretLease lease = ((AcquireResult.Granted) acquired).lease();
            ForwardResult result = attempt(endpoint, request, lease, attempt);
            boolean retryable = switch (result) {
                case ForwardResult.Failed f -> true;
                case ForwardResult.Response r -> r.status() == 429 || r.status() == 502 || r.status() == 503
                        || r.status() == 504;
                case ForwardResult.NoSecret n -> false;
            };
            if (!retryable || attempt == maxRetries + 1) {
                return result;
            }
            if (result instanceof ForwardResult.Response r) {
                closeQuietly(r.body());
            }
            LOG.atInfo().setMessage("retrying on another secret")
                    .addKeyValue("endpoint", endpoint.name()).addKeyValue("secret_id", lease.secretId())
                    .addKeyValue("attempt", attempt).log();
            last = result;
        }
        return last;
    }

    private ForwardResult attempt(EndpointConfig endpoint, ForwardRequest request, SecretLease lease, int attempt) {
        URI target = request.target();
        HttpClientContext context = HttpClientContext.create();
        List<Map.Entry<String, String>> extraHeaders = new ArrayList<>();
        if (lease.type() == SecretType.KEY) {
            KeyPlacement key = endpoint.key();
            if (key.inHeader()) {
                extraHeaders.add(Map.entry(key.header(), key.headerValue(lease.value())));
            } else {
                target = withQueryParameter(target, key.queryParameter(), lease.value());
            }
        } else {
            URI proxy = URI.create(lease.value());
            HttpHost proxyHost = new HttpHost(proxy.getScheme(), proxy.getHost(), proxy.getPort());
            context.setAttribute(PROXY_ATTRIBUTE, proxyHost);
            if (proxy.getRawUserInfo() != null) {
                String[] userPass = proxy.getUserInfo().split(":", 2);
                BasicCredentialsProvider credentials = new BasicCredentialsProvider();
                credentials.setCredentials(new AuthScope(proxyHost), new UsernamePasswordCredentials(userPass[0],
                        (userPass.length > 1 ? userPass[1] : "").toCharArray()));
                context.setCredentialsProvider(credentials);
                // plain-HTTP forwarding: send the credentials up front rather than after a 407 round trip
                String basic = java.util.Base64.getEncoder().encodeToString(
                        proxy.getUserInfo().getBytes(StandardCharsets.UTF_8));
                extraHeaders.add(Map.entry("Proxy-Authorization", "Basic " + basic));
            }
        }
        Duration connect = endpoint.timeouts() != null ? endpoint.timeouts().connect() : defaultConnectTimeout;
        Duration read = endpoint.timeouts() != null ? endpoint.timeouts().read() : defaultReadTimeout;
        context.setRequestConfig(requestConfig(connect, read));

        HttpUriRequestBase upstream = new HttpUriRequestBase(request.method(), target);
        Set<String> replaced = new java.util.HashSet<>();
        for (Map.Entry<String, String> h : extraHeaders) {
            replaced.add(h.getKey().toLowerCase(java.util.Locale.ROOT));
        }
        for (Map.Entry<String, String> h : request.headers()) {
            if (!replaced.contains(h.getKey().toLowerCase(java.util.Locale.ROOT))) {
                upstream.addHeader(h.getKey(), h.getValue());
            }
        }
        for (Map.Entry<String, String> h : extraHeaders) {
            upstream.setHeader(h.getKey(), h.getValue());
        }
        if (request.body().length > 0) {
            upstream.setEntity(new ByteArrayEntity(request.body(), null));
        }
        ClassicHttpResponse response;
        try {
            response = client.executeOpen(null, upstream, context);
        } catch (IOException e) {
            boolean timeout = e instanceof SocketTimeoutException
                    || e instanceof org.apache.hc.client5.http.ConnectTimeoutException;
            engine.release(lease, timeout ? Outcome.timeout() : Outcome.connectionError());
            LOG.atWarn().setMessage("upstream attempt failed")
                    .addKeyValue("endpoint", endpoint.name()).addKeyValue("secret_id", lease.secretId())
                    .addKeyValue("error", e.getClass().getSimpleName()).log();
            return new ForwardResult.Failed(timeout, (timeout ? "upstream timed out" : "upstream unreachable")
                    + " (" + e.getClass().getSimpleName() + ") for endpoint " + endpoint.name(), attempt);
        }
        int status = response.getCode();
        engine.release(lease, Outcome.status(status, retryAfter(response)));
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (Header h : response.getHeaders()) {
            headers.add(Map.entry(h.getName(), h.getValue()));
        }
        InputStream body;
        long length = -1;
        try {
            if (response.getEntity() == null) {
                response.close();
                body = new ByteArrayInputStream(new byte[0]);
                length = 0;
            } else {
                length = response.getEntity().getContentLength();
                body = new ClosingStream(response.getEntity().getContent(), response);
            }
        } catch (IOException e) {
            closeQuietly(response);
            return new ForwardResult.Failed(false, "upstream response unreadable for endpoint " + endpoint.name(), attempt);
        }
        return new ForwardResult.Response(status, headers, body, length, false, lease.secretId(), attempt);
    }

    @SuppressWarnings("deprecation") // a per-request connect timeout: endpoints set their own
    private static RequestConfig requestConfig(Duration connect, Duration read) {
        return RequestConfig.custom()
                .setConnectTimeout(Timeout.of(connect))
                .setResponseTimeout(Timeout.of(read))
                .setConnectionRequestTimeout(Timeout.ofSeconds(30))
                .build();
    }

    private static Duration retryAfter(ClassicHttpResponse response) {
        Header h = response.getFirstHeader("Retry-After");
        if (h == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(h.getValue().strip())));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static URI withQueryParameter(URI target, String name, String value) {
        String param = URLEncoder.encode(name, StandardCharsets.UTF_8) + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        String s = target.toString();
        int hash = s.indexOf('#');
        if (hash >= 0) {
            s = s.substring(0, hash);
        }
        return URI.create(s + (target.getRawQuery() == null ? "?" : "&") + param);
    }

    private static void backoff(RetryPolicy retry, int retryNumber) {
        long base = retry.backoffBase().toMillis();
        long max = retry.backoffMax().toMillis();
        long exp = Math.min(max, base << Math.min(20, retryNumber - 1));
        long wait = exp / 2 + ThreadLocalRandom.current().nextLong(exp / 2 + 1); // jitter spreads retry storms
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // nothing useful to do: the connection is discarded
        }
    }

    @Override
    public Set<String> endpoints() {
        return engine.endpoints();
    }

    @Override
    public EndpointConfig endpointConfig(String endpoint) {
        if (!engine.endpoints().contains(endpoint)) {
            throw new UnknownEndpointException("no endpoint named '" + endpoint + "'; known endpoints: "
                    + new java.util.TreeSet<>(engine.endpoints()));
        }
        return engine.endpoint(endpoint);
    }

    @Override
    public void updateEndpoint(EndpointConfig config) {
        engine.updateEndpoint(config);
    }

    @Override
    public List<Map<String, Object>> secretStats(String endpoint) {
        endpointConfig(endpoint);
        List<Map<String, Object>> out = new ArrayList<>();
        for (SecretStats s : engine.stats(endpoint)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.secretId());
            m.put("masked_value", s.maskedValue());
            m.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
            m.put("total_uses", s.totalUses());
            m.put("in_use", s.inUse());
            m.put("successes", s.successes());
            m.put("failures", s.failures());
            m.put("consecutive_failures", s.consecutiveFailures());
            List<Map<String, Object>> windows = new ArrayList<>();
            for (SecretStats.WindowUsage w : s.windows()) {
                windows.add(Map.of("limit", w.limit().describe(), "uses", w.uses(), "max", w.limit().requests()));
            }
            m.put("windows", windows);
            m.put("cooling_down_until", s.coolingDownUntil() == null ? null : s.coolingDownUntil().toString());
            m.put("next_available", s.nextAvailable() == null ? null : s.nextAvailable().toString());
            out.add(m);
        }
        return out;
    }

    @Override
    public Map<String, String> storeStates() {
        return Map.of("usage_store", "up");
    }

    @Override
    public void close() {
        closeQuietly(client);
        closeQuietly(engine.store());
    }

    /** The entity stream that closes the whole response (returning the connection to the pool) when closed. */
    private static final class ClosingStream extends FilterInputStream {
        private final ClassicHttpResponse response;

        ClosingStream(InputStream in, ClassicHttpResponse response) {
            super(in);
            this.response = response;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                response.close();
            }
        }
    }
}
