package dev.proxymanager.middleware;

import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.Sleeper;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.SecretEvent;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.rotation.SecretStateEvent;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.spi.Backends;
import dev.proxymanager.middleware.spi.CacheAndLogBackend;
import dev.proxymanager.middleware.spi.CacheAndLogBackendProvider;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.transport.HttpTransport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The library's entry point: holds the rotation engine, the HTTP connection pool and, with
 * {@link Builder#elasticsearch(String)} or {@link Builder#cacheAndLog(CacheAndLogBackend)}, the response cache and
 * request log; hands out {@link Request}s.
 *
 * <pre>{@code
 * try (ProxyManager pm = ProxyManager.builder().secrets(Path.of("secrets.json")).build();
 *      Request req = pm.request(SecretType.KEY, "github", true)) {
 *     Response r = req.send("GET", "https://api.github.com/rate_limit", null, null);
 * }
 * }</pre>
 *
 * <p>Long-lived: build one per application and share it. This class is threadsafe.
 */
public final class ProxyManager implements AutoCloseable {

    /** Default longest wait for a secret to free up before {@link NoSecretAvailableException}: 10 s. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(10);

    private final RotationEngine engine;
    private final HttpTransport transport;
    private final ResponseCache cache;
    private final RequestLog log;
    private final CacheAndLogBackend ownedBackend;
    private final Dispatcher dispatcher;
    private final ExecutorService executor;
    private volatile SecretsConfig config;

    private ProxyManager(Builder b, SecretsConfig config) {
        this.config = config;
        RotationEngine.Builder eb = RotationEngine.builder().withConfig(config).withClock(b.clock);
        if (b.usageStore != null) {
            eb.withStore(b.usageStore);
        }
        this.engine = eb.build();
        this.transport = b.transport != null ? b.transport : HttpTransport.builder().build();
        this.ownedBackend = b.backend == null && b.esUrl != null ? b.esProvider.connect(b.esUrl) : null;
        CacheAndLogBackend backend = b.backend != null ? b.backend : ownedBackend;
        if (backend != null) {
            this.cache = ResponseCache.builder(backend.cacheStore(b.cacheIndex)).withClock(b.clock).build();
            this.log = backend.requestLog(b.requestLogDataStream, b.clock);
            boolean sharedStore = b.usageStore != null && b.usageStore.sharedAcrossProcesses();
            if (b.restoreUsageFromLog && !sharedStore) {
                UsageRestore.restore(engine, config, backend.usageHistory(b.requestLogDataStream), b.clock.now());
            }
        } else {
            this.cache = null;
            this.log = b.requestLog;
        }
        String instanceId = b.instanceId != null ? b.instanceId : UUID.randomUUID().toString();
        if (log != null) {
            RequestLog eventLog = log;
            engine.addListener(event -> eventLog.record(eventDocument(event, instanceId)));
        }
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        this.dispatcher = new Dispatcher(engine, transport, cache, log, b.clock, b.sleeper, b.maxWait, instanceId);
    }

    /** A secret's state change as the request log's event document: its id, never its value. */
    private SecretEvent eventDocument(SecretStateEvent e, String instanceId) {
        EndpointConfig endpoint = config.endpoints().get(e.endpoint());
        SecretEvent.Type type = switch (e.kind()) {
            case COOLDOWN -> SecretEvent.Type.COOLDOWN;
            case BAN -> SecretEvent.Type.BAN;
            case REMOVED -> SecretEvent.Type.REMOVED;
            case RESTORED -> SecretEvent.Type.RESTORED;
        };
        return new SecretEvent(e.at(), instanceId, e.endpoint(), e.secretId(),
                endpoint == null ? null : endpoint.type().jsonName(), type, e.until(), e.reason());
    }

    /** Starts a builder; {@link Builder#secrets} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A new session against {@code endpoint}.
     *
     * @param type whether the endpoint is protected by API keys or by IP limits (proxies); must match its config
     * @param endpoint an endpoint name of the secrets configuration
     * @param cache whether this session uses the response cache (when the manager has one)
     * @throws IllegalArgumentException if the endpoint is unknown (the message lists the known ones) or its type
     *                                  differs from {@code type}
     */
    public Request request(SecretType type, String endpoint, boolean cache) {
        Objects.requireNonNull(type, "type");
        EndpointConfig e = engine.endpoint(Objects.requireNonNull(endpoint, "endpoint"));
        if (e.type() != type) {
            throw new IllegalArgumentException("endpoint '" + endpoint + "' is a " + e.type().jsonName()
                    + " endpoint, was asked for as " + type.jsonName());
        }
        return new Request(this, e, cache);
    }

    /** {@link #request(SecretType, String, boolean)} with the cache on. */
    public Request request(SecretType type, String endpoint) {
        return request(type, endpoint, true);
    }

    /** The rotation engine: acquire/release, stats, secret removal and restoring. */
    public RotationEngine engine() {
        return engine;
    }

    /** Usage, state and health of every secret of {@code endpoint}. */
    public List<SecretStats> stats(String endpoint) {
        return engine.stats(endpoint);
    }

    /** The configuration of {@code endpoint} as the engine runs it now. */
    public EndpointConfig endpoint(String endpoint) {
        return engine.endpoint(endpoint);
    }

    /** The endpoint configurations, by name, as last applied. */
    public Map<String, EndpointConfig> endpoints() {
        return config.endpoints();
    }

    /**
     * Replaces the secrets and endpoint settings while running: secrets that remain keep their usage, leases and
     * health; removed ones are forgotten; new ones join at once. Requests created before use their endpoint's
     * configuration of then, except for which secrets the engine hands out.
     */
    public void replaceSecrets(SecretsConfig newConfig) {
        Objects.requireNonNull(newConfig, "newConfig");
        engine.reconfigure(newConfig);
        this.config = newConfig;
    }

    /** The response cache, or null without Elasticsearch. */
    public ResponseCache cache() {
        return cache;
    }

    /** The request log, or null without Elasticsearch (or a given one). */
    public RequestLog requestLog() {
        return log;
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }

    ExecutorService executor() {
        return executor;
    }

    /** Stops async work, flushes the request log and cache writes (bounded), closes connections. */
    @Override
    public void close() {
        executor.shutdownNow();
        engine.close(); // stops prefetching and gives back the leases it held
        if (cache != null) {
            cache.close();
        }
        if (log != null) {
            log.close();
        }
        transport.close();
        if (ownedBackend != null) {
            ownedBackend.close();
        }
    }

    /** Builds a {@link ProxyManager}; {@code build()} validates and copies. Not threadsafe. */
    public static final class Builder {
        private Path secretsPath;
        private SecretsConfig secrets;
        private String esUrl;
        private CacheAndLogBackend backend;
        private CacheAndLogBackendProvider esProvider;
        private String cacheIndex;
        private String requestLogDataStream;
        private RequestLog requestLog;
        private UsageStore usageStore;
        private HttpTransport transport;
        private Clock clock = Clock.system();
        private Sleeper sleeper = Sleeper.system();
        private Duration maxWait = DEFAULT_MAX_WAIT;
        private String instanceId;
        private boolean restoreUsageFromLog = true;

        private Builder() {
        }

        /** The secrets file, loaded and validated by {@code build()} ({@link dev.proxymanager.middleware.config.ConfigException} names the JSON path). */
        public Builder secrets(Path file) {
            this.secretsPath = Objects.requireNonNull(file, "file");
            return this;
        }

        /** An already loaded configuration. */
        public Builder secrets(SecretsConfig config) {
            this.secrets = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Elasticsearch at {@code url} for the response cache and the request log; without it (or
         * {@link #cacheAndLog}), neither is used. Needs {@code dev.proxymanager:proxy-manager-middleware-elasticsearch}
         * on the classpath ({@code build()} throws {@link IllegalStateException} naming it otherwise). The manager
         * owns the client it opens and closes it.
         */
        public Builder elasticsearch(String url) {
            this.esUrl = Objects.requireNonNull(url, "url");
            return this;
        }

        /**
         * Where the response cache and the request log live, e.g. {@code ElasticsearchBackend.of(client)} of
         * {@code proxy-manager-middleware-elasticsearch} to use a client of your own; the caller keeps ownership.
         */
        public Builder cacheAndLog(CacheAndLogBackend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        /** The cache index name; default {@code proxy-manager-cache} (Elasticsearch). */
        public Builder cacheIndex(String index) {
            this.cacheIndex = Objects.requireNonNull(index, "index");
            return this;
        }

        /** The request-log data stream; default {@code proxy-manager-requests} (Elasticsearch). */
        public Builder requestLogDataStream(String name) {
            this.requestLogDataStream = Objects.requireNonNull(name, "name");
            return this;
        }

        /** A request log to use without a cache-and-log backend (e.g. an in-memory one); the manager closes it. */
        public Builder requestLog(RequestLog log) {
            this.requestLog = Objects.requireNonNull(log, "log");
            return this;
        }

        /** Where usage is shared; default in-memory (this process only). */
        public Builder usageStore(UsageStore store) {
            this.usageStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /** The HTTP transport; default {@code HttpTransport.builder().build()}. The manager closes it. */
        public Builder transport(HttpTransport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /** The clock for limits, cooldowns and timestamps; default the system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How waits happen (retry backoff, waiting for a secret); default real sleeping. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /** Longest wait for a secret to free up; default 10 s; zero fails at once. */
        public Builder maxWait(Duration maxWait) {
            Objects.requireNonNull(maxWait, "maxWait");
            if (maxWait.isNegative()) {
                throw new IllegalArgumentException("maxWait must be >= 0, was " + maxWait);
            }
            this.maxWait = maxWait;
            return this;
        }

        /** This process's id in request-log documents; default a random UUID. */
        public Builder instanceId(String instanceId) {
            this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
            return this;
        }

        /**
         * Whether {@code build()} reads the uses still inside each endpoint's longest limit window back from the
         * request log in Elasticsearch, so a restart does not reset a daily limit; default true. Only with
         * Elasticsearch and a usage store of this process (a shared Redis store keeps its counts itself). An
         * unreadable log is logged and skipped.
         */
        public Builder restoreUsageFromLog(boolean restore) {
            this.restoreUsageFromLog = restore;
            return this;
        }

        /**
         * @throws IllegalStateException if no secrets were given, or both a file and a configuration, or both an
         *                               Elasticsearch URL and a backend, or an Elasticsearch URL without
         *                               {@code proxy-manager-middleware-elasticsearch} on the classpath
         * @throws dev.proxymanager.middleware.config.ConfigException if the secrets file is invalid
         */
        public ProxyManager build() {
            if ((secretsPath == null) == (secrets == null)) {
                throw new IllegalStateException(secretsPath == null
                        ? "secrets are required: call secrets(Path) or secrets(SecretsConfig)"
                        : "secrets were given twice: a file and a configuration; give one");
            }
            if (esUrl != null && backend != null) {
                throw new IllegalStateException("the cache and log backend was given twice: elasticsearch(url) and"
                        + " cacheAndLog(backend); give one");
            }
            esProvider = esUrl != null ? Backends.cacheAndLog("elasticsearch") : null;
            SecretsConfig c = secrets != null ? secrets : SecretsConfig.load(secretsPath);
            return new ProxyManager(this, c);
        }
    }
}
