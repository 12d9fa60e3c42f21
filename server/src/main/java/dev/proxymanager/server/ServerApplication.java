package dev.proxymanager.server;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.store.FailoverUsageStore;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStores;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.store.SessionStores;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.RetryPolicy;
import dev.proxymanager.middleware.elastic.ElasticsearchBackend;
import dev.proxymanager.middleware.elastic.ElasticsearchClients;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.transport.HttpTransport;
import dev.proxymanager.monitor.elasticsearch.LocalElasticsearch;
import dev.proxymanager.server.config.ServerConfig;
import dev.proxymanager.server.config.SecretsReloader;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.dashboard.DashboardHandler;
import dev.proxymanager.server.dashboard.ElasticsearchRequestHistory;
import dev.proxymanager.server.dashboard.EngineSecretStatuses;
import dev.proxymanager.server.demo.DemoEnvironment;
import dev.proxymanager.server.forward.ProxyManagerForwarder;
import dev.proxymanager.server.forward.Forwarder;
import dev.proxymanager.server.http.Routes;
import dev.proxymanager.server.limit.ConcurrencyLimiter;
import dev.proxymanager.server.logging.LogstashShipping;
import dev.proxymanager.server.metrics.BackendMetrics;
import dev.proxymanager.server.metrics.ServerMetrics;
import dev.proxymanager.server.resilience.UpstreamBreakers;
import dev.proxymanager.server.proxy.ForwardProxyServer;
import dev.proxymanager.server.proxy.ForwardProxySettings;
import dev.proxymanager.server.security.TargetGuard;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.security.SecureRandom;

/**
 * Assembles and starts the whole server from a {@link ServerConfig}: the Elasticsearch to use (the local node when
 * none is configured), the secrets (the demo upstream and examples/secrets.json when no secrets file is configured),
 * the rotation engine and forwarder, the limiter, breakers, metrics and routes. Not threadsafe; call once.
 */
public final class ServerApplication implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServerApplication.class);

    private final ServerConfig config;
    private final Map<String, String> env;
    private final Clock clock;
    private ForwardingServer server;
    private LocalElasticsearch localElasticsearch;
    private DemoEnvironment demo;
    private URI elasticsearchUrl;
    /** The cache, request log and dashboard history read and write through this one client, with the credentials. */
    private ElasticsearchClient elasticsearchClient;
    private String elasticsearchAuthorization;
    private String adminToken;
    private boolean generatedToken;
    private SecretsConfig secrets;
    private UsageStore usageStore;
    private UsageStoreSettings sessionStoreSettings;
    private SecretsReloader secretsReloader;
    private Forwarder forwarder;
    private ForwardProxySettings forwardProxySettings;
    private TlsInterceptionSettings tlsSettings = TlsInterceptionSettings.NONE;
    private ForwardProxyServer forwardProxy;

    /**
     * @param config the validated configuration
     * @param env the environment (for secrets.json {@code ${NAME}} references)
     * @param clock the clock of the engine and breakers
     */
    public ServerApplication(ServerConfig config, Map<String, String> env, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.env = Objects.requireNonNull(env, "env");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Starts everything.
     *
     * @throws ServerConfigException when the secrets file or the usage store setting is invalid (names the setting)
     * @throws Exception when a component cannot start (port in use, Elasticsearch not starting)
     */
    public ServerApplication start() throws Exception {
        try {
            doStart();
            return this;
        } catch (Exception | Error e) {
            // leave nothing running behind a failed start (demo ports, the local node)
            closeQuietly(demo);
            closeQuietly(localElasticsearch);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already failing: the original error matters
            }
        }
    }

    private void doStart() throws Exception {
        try {
            if (config.demoMode()) {
                demo = DemoEnvironment.start(DemoEnvironment.loadExample(env), 0, 60, clock);
                secrets = adjust(demo.config());
            } else {
                secretsReloader = new SecretsReloader(config.secretsFile(), env, this::adjust,
                        reloaded -> forwarder.replaceSecrets(reloaded));
                secrets = secretsReloader.loadInitial();
            }
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException("secrets_file", e.getMessage(), e);
        }
        UsageStoreSettings storeSettings = secrets.usageStore();
        if (config.usageStoreType() != null) {
            // server.yaml / REDIS_URL win over secrets.json, keeping its failure mode and lease TTL
            try {
                storeSettings = new UsageStoreSettings(config.usageStoreType(), config.usageStoreUri(),
                        storeSettings.failOpen(), storeSettings.leaseTtl());
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("usage_store", e.getMessage(), e);
            }
        }
        UsageStore store;
        try {
            store = UsageStores.create(storeSettings, clock);
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException("usage_store.uri", e.getMessage(), e);
        }
        usageStore = store;
        sessionStoreSettings = storeSettings;
        if (config.elasticsearchEnabled()) {
            elasticsearchUrl = config.elasticsearchUrl();
            if (elasticsearchUrl == null) {
                Path data = Path.of(System.getProperty("java.io.tmpdir"), "proxy-manager", "elasticsearch");
                LOG.atInfo().setMessage("no elasticsearch_url: starting the local Elasticsearch node")
                        .addKeyValue("data", data.toString()).log();
                localElasticsearch = LocalElasticsearch.builder().withDataDirectory(data).build().start();
                elasticsearchUrl = URI.create(localElasticsearch.httpUrl());
            }
            try {
                elasticsearchAuthorization = ElasticsearchClients.basicAuthorization(config.elasticsearchUsername(),
                        config.elasticsearchPassword()).orElse(null);
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("elasticsearch_username", e.getMessage(), e);
            }
            elasticsearchClient = ElasticsearchClients.create(elasticsearchUrl.toString(),
                    config.elasticsearchUsername(), config.elasticsearchPassword());
        }
        TargetGuard targetGuard = new TargetGuard();
        ProxyManager.Builder pm = ProxyManager.builder().secrets(secrets).clock(clock).usageStore(usageStore)
                // a busy pool answers 429 with Retry-After at once; holding the request would only fill the queue
                .maxWait(Duration.ZERO)
                .transport(HttpTransport.builder()
                        .withConnectGuard(targetGuard)
                        .withMaxConnections(config.effectivePoolMaxSize())
                        .withMaxConnectionsPerRoute(config.effectivePoolMaxSize())
                        .build());
        if (elasticsearchClient != null) {
            pm.cacheAndLog(ElasticsearchBackend.of(elasticsearchClient));
        }
        ProxyManager manager = pm.build();
        forwarder = new ProxyManagerForwarder(manager).withUsageStoreSettings(secrets.usageStore());
        UsageStore storeForReadiness = usageStore;

        adminToken = config.adminToken();
        if (adminToken == null && config.demoMode()) {
            // the demo has no admin token configured: make one, so the admin APIs and dashboard are usable but not open
            byte[] bytes = new byte[18];
            new SecureRandom().nextBytes(bytes);
            adminToken = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            generatedToken = true;
        }
        ServerMetrics metrics = new ServerMetrics(clock);
        manager.engine().addListener(metrics::recordSecretEvent);
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(config.maxConcurrentRequests(), config.maxQueueSize());
        UpstreamBreakers breakers = new UpstreamBreakers(config.circuitBreakerThreshold(),
                config.circuitBreakerOpenDuration(), clock);
        ElasticsearchProbe probe = elasticsearchUrl == null ? null : new ElasticsearchProbe(elasticsearchUrl,
                elasticsearchAuthorization, clock);
        Map<String, Object> staticSettings = new LinkedHashMap<>();
        staticSettings.put("port", config.port());
        staticSettings.put("connect_timeout", config.connectTimeout().toMillis() + "ms");
        staticSettings.put("read_timeout", config.readTimeout().toMillis() + "ms");
        staticSettings.put("retries", config.retries());
        staticSettings.put("circuit_breaker_threshold", config.circuitBreakerThreshold());
        staticSettings.put("circuit_breaker_open_duration", config.circuitBreakerOpenDuration().toMillis() + "ms");
        staticSettings.put("protect_forwarding", config.protectForwarding());
        staticSettings.put("max_request_bytes", config.maxRequestBytes());
        staticSettings.put("max_response_bytes", config.maxResponseBytes());
        staticSettings.put("pool_max_size", config.effectivePoolMaxSize());
        staticSettings.put("drain_timeout", config.drainTimeout().toMillis() + "ms");
        staticSettings.put("elasticsearch", elasticsearchUrl == null ? "off" : elasticsearchUrl.getScheme() + "://"
                + elasticsearchUrl.getHost() + ":" + elasticsearchUrl.getPort());
        Supplier<Map<String, String>> backendStates = () -> {
            Map<String, String> states = new LinkedHashMap<>();
            states.put("usage_store", usageStoreState(storeForReadiness));
            if (probe != null) {
                states.put("elasticsearch", probe.state());
            }
            return states;
        };
        bindBackendMetrics(metrics, manager, storeForReadiness, backendStates, probe != null);
        if (!config.protectForwarding() && !config.demoMode()) {
            LOG.atWarn().setMessage("protect_forwarding is false: anyone who reaches this port can spend the keys "
                    + "and proxies of every endpoint").addKeyValue("host", config.host()).log();
        }
        Routes routes = Routes.builder(forwarder, limiter, breakers, metrics)
                .withAdminToken(adminToken)
                .withForwardingToken(config.forwardingToken())
                .withTargetGuard(targetGuard)
                .withProtectForwarding(config.protectForwarding())
                .withMaxQueueWait(config.maxQueueWait())
                .withMaxRequestBytes(config.maxRequestBytes())
                .withMaxResponseBytes(config.maxResponseBytes())
                .withReadiness(backendStates)
                .withStaticSettings(staticSettings)
                .withSecretsReloader(secretsReloader)
                .build();
        mountDashboard(routes, manager);
        server = new ForwardingServer(config.host(), config.port(), routes, config.drainTimeout());
        // closed in reverse: forwarder (flush usage and logs) first, then the demo and the local node
        if (localElasticsearch != null) {
            server.onStopped(localElasticsearch);
        }
        if (demo != null) {
            server.onStopped(demo);
        }
        server.onStopped(usageStore);
        if (elasticsearchClient != null) {
            ElasticsearchClient esClient = elasticsearchClient;
            server.onStopped(() -> ElasticsearchClients.close(esClient)); // after the forwarder flushed the log
        }
        server.onStopped(forwarder);
        if (secretsReloader != null) {
            BackendMetrics.bindSecretsReloads(metrics.registry(), secretsReloader);
            if (!config.secretsReloadInterval().isZero()) {
                secretsReloader.start(config.secretsReloadInterval());
            }
            server.onStopped(secretsReloader); // closed first: no reload into a closing forwarder
        }
        if (forwardProxySettings == null && config.demoMode()) {
            forwardProxySettings = ForwardProxySettings.demo(config.port() == 0 ? 0 : ForwardProxySettings.DEMO_PORT);
        }
        try {
            if (forwardProxySettings != null) {
                // sticky sessions live beside the usage state: in Redis, shared by every replica
                SessionStore sessions = SessionStores.create(sessionStoreSettings);
                server.onStopped(sessions);
                try {
                    forwardProxy = new ForwardProxyServer(config.host(), forwardProxySettings, tlsSettings, manager,
                            clock, metrics.registry(), config.readTimeout(), config.maxRequestBytes(),
                            config.effectivePoolMaxSize(), sessions);
                } catch (IllegalArgumentException e) {
                    // an unusable CA or trust store: "proxy_tls_ca.key: /path is readable by every user ..."
                    String m = e.getMessage();
                    int colon = m.indexOf(": ");
                    throw new ServerConfigException(colon > 0 ? m.substring(0, colon) : "proxy_tls_ca",
                            colon > 0 ? m.substring(colon + 2) : m, e);
                }
                if (forwarder instanceof ProxyManagerForwarder pmf) {
                    pmf.withSiteStats(forwardProxy::siteUnavailable);
                }
                server.onStopped(forwardProxy); // registered last: closed first, before the manager it uses
                forwardProxy.start();
            }
            server.start();
        } catch (Exception e) {
            closeQuietly(forwardProxy);
            closeQuietly(forwarder);
            throw e;
        }
    }

    /**
     * Runs the forward-proxy listener with {@code settings} ({@code null}: off, except in the demo, which runs it with
     * a generated token). Call before {@link #start()}.
     */
    public ServerApplication withForwardProxy(ForwardProxySettings settings) {
        this.forwardProxySettings = settings;
        return this;
    }

    /**
     * As {@link #withForwardProxy(ForwardProxySettings)}, with TLS interception and upstream trust from {@code tls}.
     */
    public ServerApplication withForwardProxy(ForwardProxySettings settings, TlsInterceptionSettings tls) {
        this.forwardProxySettings = settings;
        this.tlsSettings = java.util.Objects.requireNonNull(tls, "tls");
        return this;
    }

    /** The forward-proxy listener, or {@code null} when it is off. */
    public ForwardProxyServer forwardProxy() {
        return forwardProxy;
    }

    /** The forward-proxy listener's settings (its token included), or {@code null} when it is off. */
    public ForwardProxySettings forwardProxySettings() {
        return forwardProxy == null ? null : forwardProxySettings;
    }

    /** Backend states, request log and cache failures, and Logstash shipping in /metrics: outages must show. */
    private static void bindBackendMetrics(ServerMetrics metrics, ProxyManager manager, UsageStore store,
                                           Supplier<Map<String, String>> backendStates, boolean elasticsearch) {
        BackendMetrics.bindStates(metrics.registry(),
                elasticsearch ? List.of("usage_store", "elasticsearch") : List.of("usage_store"), backendStates);
        if (store instanceof FailoverUsageStore failover) {
            BackendMetrics.bindUsageStore(metrics.registry(), failover);
        }
        if (manager.requestLog() != null) {
            BackendMetrics.bindRequestLog(metrics.registry(), manager.requestLog());
        }
        if (manager.cache() != null) {
            BackendMetrics.bindCache(metrics.registry(), manager.cache());
        }
        LogstashShipping.attach(LogstashShipping.APPENDER_NAME)
                .ifPresent(shipping -> BackendMetrics.bindLogstash(metrics.registry(), shipping));
    }

    /**
     * Mounts the dashboard at /dashboard: live secret states from the engine and, with Elasticsearch, the request
     * history from the request log. It takes the admin token itself (header or a one-time ?token= that sets a
     * cookie), so it is mounted open; without an admin token it is not mounted at all.
     */
    private void mountDashboard(Routes routes, ProxyManager manager) {
        if (adminToken == null) {
            LOG.atInfo().setMessage("no admin_token: the dashboard and admin APIs are off").log();
            return;
        }
        DashboardHandler.Builder dashboard = DashboardHandler.builder().withAccessToken(adminToken)
                .withLiveSecrets(new EngineSecretStatuses(() -> manager.endpoints().keySet(), manager::stats));
        if (elasticsearchClient != null) {
            String index = manager.requestLog() instanceof ElasticsearchRequestLog log ? log.dataStream()
                    : ElasticsearchRequestLog.DEFAULT_DATA_STREAM;
            dashboard.withHistory(ElasticsearchRequestHistory.builder().withClient(elasticsearchClient).withIndex(index)
                    .build());
        }
        routes.mount("/dashboard", new ContextHandler(dashboard.build(), "/dashboard"), false);
    }

    /**
     * "up", "degraded" (fail-open, counting locally) or "down" (fail-closed and unreachable, or answering with errors
     * that are not outages, e.g. a script error: requests fail rather than skip limits).
     */
    static String usageStoreState(UsageStore store) {
        if (store instanceof FailoverUsageStore f) {
            FailoverUsageStore.Status s = f.probe(); // at most one check per probe interval: recovery shows without traffic
            return !s.ready() ? "down" : (s.down() ? "degraded" : "up");
        }
        return "up";
    }

    /** The server's overrides of what secrets.json says (today: the retry count), for the start and every reload. */
    private SecretsConfig adjust(SecretsConfig c) {
        return config.retries() == null ? c : withRetries(c, config.retries());
    }

    private static SecretsConfig withRetries(SecretsConfig c, int retries) {
        Map<String, EndpointConfig> out = new LinkedHashMap<>();
        for (EndpointConfig e : c.endpoints().values()) {
            RetryPolicy r = e.retry();
            out.put(e.name(), e.toBuilder()
                    .withRetry(new RetryPolicy(retries, r.backoffBase(), r.backoffMax(), r.retryNonIdempotent())).build());
        }
        return new SecretsConfig(c.usageStore(), out);
    }

    /** The running server. */
    public ForwardingServer server() {
        return server;
    }

    /** The secrets in use (for the demo: rewritten to the demo upstream). */
    public SecretsConfig secrets() {
        return secrets;
    }

    /** The admin token the APIs and dashboard take (generated in demo mode when none is configured), or null. */
    public String adminToken() {
        return adminToken;
    }

    /** The Elasticsearch in use, or {@code null}. */
    public URI elasticsearchUrl() {
        return elasticsearchUrl;
    }

    /** The lines printed after start: where to point curl, the dashboard and the metrics. */
    public String banner() {
        String base = "http://127.0.0.1:" + server.port();
        StringBuilder b = new StringBuilder();
        b.append("\nProxy Manager is listening on ").append(base).append('\n');
        if (demo != null) {
            b.append("Demo mode: examples/secrets.json against a demo API on ").append(demo.upstream().url()).append('\n');
        }
        if (elasticsearchUrl != null) {
            b.append("Elasticsearch: ").append(elasticsearchUrl.getScheme()).append("://").append(elasticsearchUrl.getHost())
                    .append(':').append(elasticsearchUrl.getPort()).append(localElasticsearch != null ? " (local node)" : "")
                    .append('\n');
        }
        String firstKeyEndpoint = secrets.endpoints().values().stream()
                .filter(e -> e.baseUrl() != null).map(e -> e.name()).findFirst().orElse(null);
        b.append("\nTry:\n");
        if (firstKeyEndpoint != null) {
            b.append("  curl -i ").append(base).append("/proxy/").append(firstKeyEndpoint).append("/items/42\n");
        }
        String admin = adminToken == null ? "" : " -H 'Authorization: Bearer " + (generatedToken ? adminToken : "<admin token>") + "'";
        b.append("  curl").append(admin).append(' ').append(base).append("/api/v1/proxies\n");
        b.append("  curl ").append(base).append("/proxy-metrics\n");
        b.append("  Metrics (Prometheus): ").append(base).append("/metrics\n");
        b.append("  Dashboard: ").append(base).append("/dashboard")
                .append(generatedToken ? "?token=" + adminToken : "").append('\n');
        if (generatedToken) {
            b.append("  (admin token generated for this run: ").append(adminToken).append(")\n");
        }
        if (forwardProxy != null) {
            b.append(forwardProxy.banner(forwardProxySettings, demo == null ? null : demo.upstream().url(),
                    demo == null ? null : demo.upstream().httpsUrl(), config.demoMode()));
        }
        b.append("  Load test: java -jar server/target/proxy-manager-server.jar loadtest --url ").append(base)
                .append("/proxy-metrics --concurrent 100 --total-requests 1000\n");
        return b.toString();
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop();
        }
    }

    /**
     * Asks Elasticsearch for its cluster health, at most every two seconds, with the server's credentials (a secured
     * node answers 401 without them). Its own one-second timeouts keep {@code /ready} quick when the node hangs.
     */
    static final class ElasticsearchProbe {
        private final URI url;
        private final String authorization;
        private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        private volatile long checkedAt;
        private volatile String state = "unknown";

        private final Clock clock;

        ElasticsearchProbe(URI url, String authorization, Clock clock) {
            this.url = url;
            this.authorization = authorization;
            this.clock = clock;
        }

        String state() {
            long now = clock.nanoTime();
            if (now - checkedAt > 2_000_000_000L || state.equals("unknown")) {
                checkedAt = now;
                try {
                    HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve("/_cluster/health"))
                            .timeout(Duration.ofSeconds(1)).GET();
                    if (authorization != null) {
                        request.header("Authorization", authorization);
                    }
                    HttpResponse<Void> r = client.send(request.build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() != 200 && !state.equals("degraded")) {
                        LOG.atWarn().setMessage("elasticsearch health check answered {}{}").addArgument(r.statusCode())
                                .addArgument(r.statusCode() == 401 ? ": check ELASTICSEARCH_USERNAME/PASSWORD" : "")
                                .log();
                    }
                    state = r.statusCode() == 200 ? "up" : "degraded";
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    // the request log buffers and the cache is bypassed: still serving
                    state = "degraded";
                }
            }
            return state;
        }
    }
}
