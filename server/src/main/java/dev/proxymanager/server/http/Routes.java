package dev.proxymanager.server.http;

import dev.proxymanager.server.config.SecretsReloader;
import dev.proxymanager.server.forward.Forwarder;
import dev.proxymanager.server.limit.ConcurrencyLimiter;
import dev.proxymanager.server.metrics.ServerMetrics;
import dev.proxymanager.server.resilience.UpstreamBreakers;
import dev.proxymanager.server.security.BearerTokenAuth;
import dev.proxymanager.server.security.TargetGuard;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The server's routes as one Jetty 12 core {@link Handler}:
 * <ul>
 *   <li>{@code ANY /proxy/{endpoint}/{path...}} and {@code POST /api/v1/send} — forwarding (see {@link ForwardingRoutes});</li>
 *   <li>{@code GET /health} (liveness), {@code GET /ready} (readiness), {@code GET /metrics} (Prometheus),
 *       {@code GET /proxy-metrics} and {@code GET /proxy-health} (seed E's JSON views);</li>
 *   <li>{@code POST /api/v1/secrets/reload} (admin): secrets.json applied now, if changed and valid;</li>
 *   <li>{@code GET /api/v1/proxies}, {@code GET/PUT /api/v1/settings} — admin, Bearer token;</li>
 *   <li>handlers {@linkplain #mount mounted} under a path prefix, optionally behind the admin token (the dashboard).</li>
 * </ul>
 * Build with {@link #builder}. Threadsafe.
 */
public final class Routes extends Handler.Abstract {

    private final ForwardingRoutes forwarding;
    private final SettingsRoutes settings;
    private final ServerMetrics metrics;
    private final Forwarder forwarder;
    private final ConcurrencyLimiter limiter;
    private final UpstreamBreakers breakers;
    private final AdminGate gate;
    private final Supplier<Map<String, String>> extraReadiness;
    private final SecretsReloader secretsReloader;
    private final Map<String, Mount> mounts = new ConcurrentSkipListMap<>((a, b) -> b.length() != a.length()
            ? Integer.compare(b.length(), a.length()) : a.compareTo(b));
    private volatile boolean ready = true;

    private record Mount(Handler handler, boolean admin) {
    }

    private Routes(Builder b) {
        this.metrics = b.metrics;
        this.forwarder = b.forwarder;
        this.limiter = b.limiter;
        this.breakers = b.breakers;
        this.gate = new AdminGate(new BearerTokenAuth(b.adminToken), new BearerTokenAuth(b.forwardingToken));
        this.extraReadiness = b.extraReadiness;
        AtomicReference<Duration> wait = new AtomicReference<>(b.maxQueueWait);
        boolean protect = b.protectForwarding;
        this.forwarding = new ForwardingRoutes(forwarder, limiter, breakers, metrics, gate, b.targetGuard, () -> protect, wait::get,
                b.maxRequestBytes, b.maxResponseBytes);
        this.settings = new SettingsRoutes(forwarder, limiter, wait, b.staticSettings);
        this.secretsReloader = b.secretsReloader;
        metrics.gauge("proxy.inflight.requests", "Upstream requests holding a concurrency slot", limiter::active);
        metrics.gauge("proxy.queued.requests", "Requests waiting for a concurrency slot", limiter::waiting);
        breakers.onCreate(metrics::bindBreaker);
    }

    /**
     * Serves {@code handler} for every path under {@code prefix} (e.g. {@code /dashboard}); with {@code admin} the
     * admin token is required (Bearer header, or a browser visit with {@code ?token=} that sets an HttpOnly cookie).
     * The handler sees the full path. Mount before or after start.
     */
    public Routes mount(String prefix, Handler handler, boolean admin) {
        Objects.requireNonNull(handler, "handler");
        if (!prefix.startsWith("/") || prefix.length() < 2) {
            throw new IllegalArgumentException("mount prefix must start with / and name a path, was '" + prefix + "'");
        }
        mounts.put(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix, new Mount(handler, admin));
        if (getServer() != null && !handler.isStarted()) {
            handler.setServer(getServer());
            try {
                handler.start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot start handler mounted at " + prefix, e);
            }
        }
        return this;
    }

    /** Reads each key's upstream-reported quota from the engine's stats into its gauge, at scrape time. */
    private void refreshUpstreamQuotas() {
        // from the engine's memory: a scrape must not call the usage store (nor fail, or clear its failing state)
        for (String endpoint : forwarder.endpoints()) {
            forwarder.reportedRemaining(endpoint).forEach((secret, remaining) ->
                    metrics.upstreamQuotaRemaining(endpoint, secret, remaining));
        }
    }

    /** Marks the server not ready (draining) so load balancers stop sending traffic. */
    public void markNotReady() {
        ready = false;
    }

    @Override
    protected void doStart() throws Exception {
        for (Mount m : mounts.values()) {
            m.handler.setServer(getServer());
            addBean(m.handler);
        }
        super.doStart();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        if (path.startsWith("/proxy/")) {
            forwarding.proxy(request, response, callback, path.substring("/proxy/".length()));
            return true;
        }
        switch (path) {
            case "/api/v1/send" -> forwarding.send(request, response, callback);
            case "/health" -> HttpExchange.json(response, callback, 200, Map.of("status", "up"));
            case "/ready" -> readiness(response, callback);
            case "/proxy-health" -> proxyHealth(response, callback);
            case "/metrics" -> {
                refreshUpstreamQuotas();
                HttpExchange.text(response, callback, 200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape());
            }
            case "/proxy-metrics" -> proxyMetrics(response, callback);
            case "/api/v1/proxies" -> admin(request, response, callback, () -> {
                if (!method.equals("GET")) {
                    methodNotAllowed(response, callback, "GET");
                } else {
                    settings.proxies(request, response, callback);
                }
            });
            case "/api/v1/settings" -> admin(request, response, callback, () -> {
                switch (method) {
                    case "GET" -> settings.get(request, response, callback);
                    case "PUT" -> settings.put(request, response, callback);
                    default -> methodNotAllowed(response, callback, "GET, PUT");
                }
            });
            case "/api/v1/secrets/reload" -> admin(request, response, callback, () -> {
                if (!method.equals("POST")) {
                    methodNotAllowed(response, callback, "POST");
                } else {
                    reloadSecrets(response, callback);
                }
            });
            default -> {
                for (Map.Entry<String, Mount> m : mounts.entrySet()) {
                    String prefix = m.getKey();
                    if (path.equals(prefix) || path.startsWith(prefix + "/")) {
                        return mounted(m.getValue(), request, response, callback);
                    }
                }
                HttpExchange.error(response, callback, 404, "not_found", "no route " + method + " " + path
                        + "; try /proxy/{endpoint}/..., /api/v1/send, /health, /ready, /metrics, /proxy-metrics");
            }
        }
        return true;
    }

    private boolean mounted(Mount mount, Request request, Response response, Callback callback) throws Exception {
        if (mount.admin) {
            Fields query = Request.extractQueryParameters(request);
            String token = query.getValue("token");
            if (token != null && gate.permitsToken(token)) {
                // a browser visit with ?token=: a session cookie (not the token) and the token gone from the address bar
                Response.addCookie(response, HttpCookie.build(BearerTokenAuth.SESSION_COOKIE, gate.sessionCookieValue())
                        .path("/").httpOnly(true).secure(request.isSecure()).sameSite(HttpCookie.SameSite.STRICT).build());
                response.setStatus(303);
                response.getHeaders().put(HttpHeader.LOCATION, Request.getPathInContext(request));
                callback.succeeded();
                return true;
            }
            if (!gate.permits(request)) {
                ForwardingRoutes.unauthorized(response, callback);
                return true;
            }
        }
        return mount.handler.handle(request, response, callback);
    }

    private interface Action {
        void run() throws Exception;
    }

    private void admin(Request request, Response response, Callback callback, Action action) throws Exception {
        if (!gate.permits(request)) {
            metrics.recordRejection("unauthorized");
            ForwardingRoutes.unauthorized(response, callback);
            return;
        }
        action.run();
    }

    private static void methodNotAllowed(Response response, Callback callback, String allow) {
        response.getHeaders().put(HttpHeader.ALLOW, allow);
        HttpExchange.error(response, callback, 405, "method_not_allowed", "allowed methods: " + allow);
    }

    private Map<String, Object> storeStates() {
        Map<String, Object> stores = new LinkedHashMap<>(forwarder.storeStates());
        stores.putAll(extraReadiness.get());
        return stores;
    }

    private void readiness(Response response, Callback callback) {
        Map<String, Object> stores = storeStates();
        // degraded stores still serve (fail-open usage store, buffered request log): only "down" makes us unready
        boolean storesOk = stores.values().stream().noneMatch("down"::equals);
        boolean ok = ready && storesOk;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ok ? "ready" : (ready ? "not_ready" : "draining"));
        body.put("config", "loaded");
        body.put("endpoints", forwarder.endpoints().size());
        body.put("stores", stores);
        HttpExchange.json(response, callback, ok ? 200 : 503, body);
    }

    private void proxyHealth(Response response, Callback callback) {
        Map<String, Object> body = new LinkedHashMap<>();
        Map<String, String> states = breakers.states();
        boolean anyOpen = states.containsValue("open");
        body.put("status", anyOpen ? "degraded" : "healthy");
        body.put("circuit_breakers", states);
        body.put("in_flight", limiter.active());
        body.put("queued", limiter.waiting());
        body.put("stores", storeStates());
        HttpExchange.json(response, callback, 200, body);
    }

    private void proxyMetrics(Response response, Callback callback) {
        Map<String, Object> body = new LinkedHashMap<>(metrics.summary());
        body.put("in_flight", limiter.active());
        body.put("queued", limiter.waiting());
        body.put("circuit_breakers", breakers.states());
        body.put("config", settings.current());
        HttpExchange.json(response, callback, 200, body);
    }

    private void reloadSecrets(Response response, Callback callback) {
        if (secretsReloader == null) {
            HttpExchange.error(response, callback, 409, "no_secrets_file",
                    "this server runs without a secrets file (the demo); start it with --secrets-file to reload one");
            return;
        }
        try {
            SecretsReloader.Outcome o = secretsReloader.reload();
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("changed", o.changed());
            body.put("endpoints", o.endpoints());
            body.put("secrets", o.secrets());
            HttpExchange.json(response, callback, 200, body);
        } catch (IllegalArgumentException e) {
            HttpExchange.error(response, callback, 400, "invalid_secrets", e.getMessage());
        }
    }

    /** A builder; every component is required except the admin token, extra readiness and static settings. */
    public static Builder builder(Forwarder forwarder, ConcurrencyLimiter limiter, UpstreamBreakers breakers,
                                  ServerMetrics metrics) {
        return new Builder(forwarder, limiter, breakers, metrics);
    }

    /** Collects the route settings. Not threadsafe. */
    public static final class Builder {
        private final Forwarder forwarder;
        private final ConcurrencyLimiter limiter;
        private final UpstreamBreakers breakers;
        private final ServerMetrics metrics;
        private String adminToken;
        private String forwardingToken;
        private boolean protectForwarding;
        private Duration maxQueueWait = Duration.ofSeconds(30);
        private long maxRequestBytes = 10L * 1024 * 1024;
        private long maxResponseBytes = 100L * 1024 * 1024;
        private Supplier<Map<String, String>> extraReadiness = Map::of;
        private Map<String, Object> staticSettings = Map.of();
        private SecretsReloader secretsReloader;
        private TargetGuard targetGuard = new TargetGuard();

        private Builder(Forwarder forwarder, ConcurrencyLimiter limiter, UpstreamBreakers breakers, ServerMetrics metrics) {
            this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
            this.limiter = Objects.requireNonNull(limiter, "limiter");
            this.breakers = Objects.requireNonNull(breakers, "breakers");
            this.metrics = Objects.requireNonNull(metrics, "metrics");
        }

        /** The admin token; default none (admin routes answer 401 to everyone). */
        public Builder withAdminToken(String token) { this.adminToken = token; return this; }
        /** The token that opens forwarding (and nothing else) when it is protected; default none. */
        public Builder withForwardingToken(String token) { this.forwardingToken = token; return this; }
        /** Whether forwarding routes need the forwarding or the admin token; default false. */
        public Builder withProtectForwarding(boolean protect) { this.protectForwarding = protect; return this; }
        /** Longest wait for a concurrency slot; default 30 s. */
        public Builder withMaxQueueWait(Duration d) { this.maxQueueWait = d; return this; }
        /** Request body limit; default 10 MiB. */
        public Builder withMaxRequestBytes(long n) { this.maxRequestBytes = n; return this; }
        /** Response body limit; default 100 MiB. */
        public Builder withMaxResponseBytes(long n) { this.maxResponseBytes = n; return this; }
        /** More store states for /ready (e.g. Elasticsearch), read on each call. */
        public Builder withReadiness(Supplier<Map<String, String>> states) { this.extraReadiness = states; return this; }
        /** Settings shown read-only under {@code server} in /api/v1/settings (no secrets). */
        public Builder withStaticSettings(Map<String, Object> settings) { this.staticSettings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings)); return this; }

        /** Serves {@code POST /api/v1/secrets/reload} (admin) with it; default none (409: no secrets file). */
        public Builder withSecretsReloader(SecretsReloader reloader) { this.secretsReloader = reloader; return this; }

        /** The guard forwarded targets pass before a secret is picked; give the transport's, so both apply one rule. */
        public Builder withTargetGuard(TargetGuard guard) { this.targetGuard = Objects.requireNonNull(guard, "guard"); return this; }

        public Routes build() {
            return new Routes(this);
        }
    }
}
