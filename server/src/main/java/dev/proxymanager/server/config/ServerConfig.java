package dev.proxymanager.server.config;

import dev.proxymanager.middleware.config.ConfigException;
import dev.proxymanager.middleware.config.Setting;
import dev.proxymanager.middleware.config.SettingDefinitions;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The forwarding server's settings, as read from server.yaml, the environment and the command line (in that order of
 * precedence, lowest first). Build with {@link #builder()}; {@link Builder#build()} validates every setting and
 * names the one at fault. Immutable and threadsafe.
 *
 * @param host the address to listen on; default {@code 0.0.0.0}, for the embedded demo {@code 127.0.0.1}
 * @param port the port to listen on; default 8080, 0 picks a free port
 * @param secretsFile secrets.json to load; {@code null} runs the embedded demo (examples/secrets.json + demo upstream)
 * @param elasticsearchUrl the Elasticsearch to cache and log in; {@code null} starts the local node
 * @param elasticsearchUsername basic-auth user for Elasticsearch, or {@code null}
 * @param elasticsearchPassword basic-auth password for Elasticsearch, or {@code null} (never logged)
 * @param elasticsearchEnabled whether to use Elasticsearch at all; default true
 * @param maxConcurrentRequests bound on upstream requests in flight; default 200
 * @param maxQueueSize requests that may wait for a slot before new ones are rejected with 503; default 500
 * @param maxQueueWait how long a queued request waits for a slot before 503; default 30 s
 * @param connectTimeout connect timeout to upstreams and proxies, unless an endpoint sets its own; default 10 s
 * @param readTimeout read (socket) timeout, unless an endpoint sets its own; default 300 s
 * @param retries retries on another secret, overriding the endpoints' {@code retry.max_retries}; {@code null} keeps theirs
 * @param circuitBreakerThreshold consecutive failures that open an endpoint's breaker; default 5
 * @param circuitBreakerOpenDuration how long a breaker stays open before half-opening; default 30 s
 * @param usageStoreType {@code memory} or {@code redis}, overriding secrets.json {@code usage_store.type}; or {@code null}
 * @param usageStoreUri the Redis URI when {@code usageStoreType} is redis; or {@code null}
 * @param adminToken the Bearer token of the admin APIs; {@code null} leaves them closed (401 to everyone)
 * @param forwardingToken the Bearer token that opens forwarding and nothing else; {@code null}: none
 * @param protectForwarding whether {@code /proxy} and {@code /api/v1/send} need the forwarding (or admin) token;
 *                          default true, for the embedded demo false
 * @param maxRequestBytes largest request body accepted (413 above); default 10 MiB
 * @param maxResponseBytes largest upstream response relayed (502 above); default 100 MiB
 * @param drainTimeout how long shutdown waits for in-flight requests; default 30 s
 * @param poolMaxSize pooled upstream connections, in all and per route (one route per upstream host or proxy);
 *                    {@code null}: twice {@code maxConcurrentRequests}, at least 64
 * @param secretsReloadInterval how often secrets.json is checked for changes; default 10 s, zero: never (a reload
 *                              is still possible through {@code POST /api/v1/secrets/reload})
 */
public record ServerConfig(String host, int port, Path secretsFile, URI elasticsearchUrl, String elasticsearchUsername,
                           String elasticsearchPassword, boolean elasticsearchEnabled, int maxConcurrentRequests,
                           int maxQueueSize, Duration maxQueueWait, Duration connectTimeout, Duration readTimeout,
                           Integer retries, int circuitBreakerThreshold, Duration circuitBreakerOpenDuration,
                           String usageStoreType, URI usageStoreUri, String adminToken, String forwardingToken,
                           boolean protectForwarding,
                           long maxRequestBytes, long maxResponseBytes, Duration drainTimeout,
                           Integer poolMaxSize, Duration secretsReloadInterval) {

    /** Default port: 8080. */
    public static final int DEFAULT_PORT = 8080;
    /** Largest read timeout accepted: 300 s (seed E's bound). */
    public static final Duration MAX_READ_TIMEOUT = SettingDefinitions.MAX_READ_TIMEOUT;

    // The definitions shared with PUT /api/v1/settings and with secrets.json, whose readers use the same ones.
    public static final Setting<Integer> MAX_CONCURRENT_REQUESTS =
            Setting.wholeNumber("max_concurrent_requests", 1, Integer.MAX_VALUE);
    public static final Setting<Integer> MAX_QUEUE_SIZE = Setting.wholeNumber("max_queue_size", 0, Integer.MAX_VALUE);
    public static final Setting<Duration> MAX_QUEUE_WAIT = Setting.positiveDuration("max_queue_wait", null);
    public static final Setting<Duration> CONNECT_TIMEOUT = SettingDefinitions.CONNECT_TIMEOUT.as("connect_timeout");
    public static final Setting<Duration> READ_TIMEOUT = SettingDefinitions.READ_TIMEOUT.as("read_timeout");
    public static final Setting<Integer> RETRIES = SettingDefinitions.RETRY_MAX_RETRIES.as("retries");
    public static final Setting<Duration> CIRCUIT_BREAKER_OPEN_DURATION =
            Setting.positiveDuration("circuit_breaker_open_duration", null);
    public static final Setting<Duration> DRAIN_TIMEOUT = Setting.positiveDuration("drain_timeout", null);
    public static final Setting<Duration> SECRETS_RELOAD_INTERVAL = Setting.nonNegativeDuration("secrets_reload_interval");

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(maxQueueWait, "maxQueueWait");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(circuitBreakerOpenDuration, "circuitBreakerOpenDuration");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(secretsReloadInterval, "secretsReloadInterval");
        checked(SECRETS_RELOAD_INTERVAL, secretsReloadInterval);
        if (port < 0 || port > 65535) {
            throw new ServerConfigException("port", "must be between 0 and 65535, was " + port);
        }
        checked(MAX_CONCURRENT_REQUESTS, maxConcurrentRequests);
        checked(MAX_QUEUE_SIZE, maxQueueSize);
        if (poolMaxSize != null && poolMaxSize <= 0) {
            throw new ServerConfigException("pool_max_size", "must be > 0, was " + poolMaxSize);
        }
        checked(MAX_QUEUE_WAIT, maxQueueWait);
        checked(CONNECT_TIMEOUT, connectTimeout);
        checked(READ_TIMEOUT, readTimeout);
        if (retries != null) {
            checked(RETRIES, retries);
        }
        if (circuitBreakerThreshold <= 0) {
            throw new ServerConfigException("circuit_breaker_threshold", "must be > 0, was " + circuitBreakerThreshold);
        }
        checked(CIRCUIT_BREAKER_OPEN_DURATION, circuitBreakerOpenDuration);
        if (usageStoreType != null && !usageStoreType.equals("memory") && !usageStoreType.equals("redis")) {
            throw new ServerConfigException("usage_store.type", "must be memory or redis, was " + usageStoreType);
        }
        if ("redis".equals(usageStoreType) && usageStoreUri == null) {
            throw new ServerConfigException("usage_store.uri", "is required when usage_store.type is redis (or set REDIS_URL)");
        }
        if (adminToken != null && adminToken.length() < 16) {
            throw new ServerConfigException("admin_token", "must be at least 16 characters long, was "
                    + adminToken.length() + " characters");
        }
        if (forwardingToken != null && forwardingToken.length() < 16) {
            throw new ServerConfigException("forwarding_token", "must be at least 16 characters long, was "
                    + forwardingToken.length() + " characters");
        }
        if (forwardingToken != null && forwardingToken.equals(adminToken)) {
            throw new ServerConfigException("forwarding_token", "must differ from the admin token: a forwarding token "
                    + "must not be able to change settings");
        }
        if (protectForwarding && adminToken == null && forwardingToken == null) {
            throw new ServerConfigException("protect_forwarding", "forwarding needs credentials by default: set a "
                    + "forwarding token (forwarding_token_file or PROXY_MANAGER_FORWARDING_TOKEN), or "
                    + "protect_forwarding: false to let anyone who reaches the port spend the keys");
        }
        if (maxRequestBytes <= 0) {
            throw new ServerConfigException("max_request_bytes", "must be > 0, was " + maxRequestBytes);
        }
        if (maxResponseBytes <= 0) {
            throw new ServerConfigException("max_response_bytes", "must be > 0, was " + maxResponseBytes);
        }
        checked(DRAIN_TIMEOUT, drainTimeout);
        if (elasticsearchUrl != null && (elasticsearchUrl.getScheme() == null || elasticsearchUrl.getHost() == null
                || !(elasticsearchUrl.getScheme().equals("http") || elasticsearchUrl.getScheme().equals("https")))) {
            throw new ServerConfigException("elasticsearch_url", "must be an http(s) URL like http://127.0.0.1:9200, was "
                    + elasticsearchUrl);
        }
    }

    /** Checks a value against its definition, failing as server settings fail: naming the setting. */
    static <T extends Comparable<? super T>> void checked(Setting<T> setting, T value) {
        try {
            setting.check(value);
        } catch (ConfigException e) {
            throw new ServerConfigException(setting.name(), e.reason());
        }
    }

    /** Whether the embedded demo runs: no secrets file was configured. */
    public boolean demoMode() {
        return secretsFile == null;
    }

    /** A builder holding every default. */
    public static Builder builder() {
        return new Builder();
    }

    /** The upstream connection pool's size: {@code pool_max_size}, else twice the concurrency bound, at least 64. */
    public int effectivePoolMaxSize() {
        return poolMaxSize != null ? poolMaxSize : Math.max(64, maxConcurrentRequests * 2);
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.secretsFile = secretsFile;
        b.elasticsearchUrl = elasticsearchUrl;
        b.elasticsearchUsername = elasticsearchUsername;
        b.elasticsearchPassword = elasticsearchPassword;
        b.elasticsearchEnabled = elasticsearchEnabled;
        b.maxConcurrentRequests = maxConcurrentRequests;
        b.maxQueueSize = maxQueueSize;
        b.maxQueueWait = maxQueueWait;
        b.connectTimeout = connectTimeout;
        b.readTimeout = readTimeout;
        b.retries = retries;
        b.circuitBreakerThreshold = circuitBreakerThreshold;
        b.circuitBreakerOpenDuration = circuitBreakerOpenDuration;
        b.usageStoreType = usageStoreType;
        b.usageStoreUri = usageStoreUri;
        b.adminToken = adminToken;
        b.forwardingToken = forwardingToken;
        b.protectForwarding = protectForwarding;
        b.maxRequestBytes = maxRequestBytes;
        b.maxResponseBytes = maxResponseBytes;
        b.drainTimeout = drainTimeout;
        b.poolMaxSize = poolMaxSize;
        b.secretsReloadInterval = secretsReloadInterval;
        return b;
    }

    @Override
    public String toString() {
        // the admin token and the Elasticsearch password stay out of logs
        return "ServerConfig[port=" + port + ", secretsFile=" + secretsFile + ", elasticsearchUrl=" + elasticsearchUrl
                + ", maxConcurrentRequests=" + maxConcurrentRequests + ", maxQueueSize=" + maxQueueSize
                + ", connectTimeout=" + connectTimeout + ", readTimeout=" + readTimeout + ", retries=" + retries
                + ", circuitBreakerThreshold=" + circuitBreakerThreshold + ", adminToken=" + (adminToken == null ? "unset" : "set")
                + ", forwardingToken=" + (forwardingToken == null ? "unset" : "set")
                + ", protectForwarding=" + protectForwarding + "]";
    }

    /** Collects settings; {@link #build()} validates them. Not threadsafe. */
    public static final class Builder {
        private String host;
        private int port = DEFAULT_PORT;
        private Path secretsFile;
        private URI elasticsearchUrl;
        private String elasticsearchUsername;
        private String elasticsearchPassword;
        private boolean elasticsearchEnabled = true;
        private int maxConcurrentRequests = 200;
        private int maxQueueSize = 500;
        private Duration maxQueueWait = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(300);
        private Integer retries;
        private int circuitBreakerThreshold = 5;
        private Duration circuitBreakerOpenDuration = Duration.ofSeconds(30);
        private String usageStoreType;
        private URI usageStoreUri;
        private String adminToken;
        private String forwardingToken;
        private Boolean protectForwarding;
        private long maxRequestBytes = 10L * 1024 * 1024;
        private long maxResponseBytes = 100L * 1024 * 1024;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private Integer poolMaxSize;
        private Duration secretsReloadInterval = Duration.ofSeconds(10);

        private Builder() {
        }

        /** Listen address; default {@code 0.0.0.0}, for the embedded demo {@code 127.0.0.1} (loopback only). */
        public Builder withHost(String host) { this.host = host; return this; }
        /** Listen port; default 8080; 0 = a free port. */
        public Builder withPort(int port) { this.port = port; return this; }
        /** secrets.json; default none (the embedded demo). */
        public Builder withSecretsFile(Path secretsFile) { this.secretsFile = secretsFile; return this; }
        /** Elasticsearch URL; default none (start the local node). */
        public Builder withElasticsearchUrl(URI url) { this.elasticsearchUrl = url; return this; }
        /** Elasticsearch basic-auth credentials; default none. */
        public Builder withElasticsearchCredentials(String username, String password) {
            this.elasticsearchUsername = username;
            this.elasticsearchPassword = password;
            return this;
        }
        /** Whether to use Elasticsearch (cache and request log); default true. */
        public Builder withElasticsearchEnabled(boolean enabled) { this.elasticsearchEnabled = enabled; return this; }
        /** Concurrent upstream requests; default 200. */
        public Builder withMaxConcurrentRequests(int n) { this.maxConcurrentRequests = n; return this; }
        /** Waiting requests; default 500. */
        public Builder withMaxQueueSize(int n) { this.maxQueueSize = n; return this; }
        /** Longest wait in the queue; default 30 s. */
        public Builder withMaxQueueWait(Duration d) { this.maxQueueWait = d; return this; }
        /** Connect timeout; default 10 s. */
        public Builder withConnectTimeout(Duration d) { this.connectTimeout = d; return this; }
        /** Read timeout; default 300 s (the maximum). */
        public Builder withReadTimeout(Duration d) { this.readTimeout = d; return this; }
        /** Retries overriding the endpoints'; default none (keep theirs). */
        public Builder withRetries(Integer retries) { this.retries = retries; return this; }
        /** Consecutive failures opening a breaker; default 5. */
        public Builder withCircuitBreakerThreshold(int n) { this.circuitBreakerThreshold = n; return this; }
        /** Open time of a breaker before it half-opens; default 30 s. */
        public Builder withCircuitBreakerOpenDuration(Duration d) { this.circuitBreakerOpenDuration = d; return this; }
        /** Usage store override: type memory|redis and its URI. */
        public Builder withUsageStore(String type, URI uri) { this.usageStoreType = type; this.usageStoreUri = uri; return this; }
        /** Admin Bearer token; default none. */
        public Builder withAdminToken(String token) { this.adminToken = token; return this; }
        /** Forwarding Bearer token: opens /proxy and /api/v1/send, not the admin routes; default none. */
        public Builder withForwardingToken(String token) { this.forwardingToken = token; return this; }
        /** Protect /proxy and /api/v1/send with the forwarding (or admin) token; default true, for the demo false. */
        public Builder withProtectForwarding(boolean protect) { this.protectForwarding = protect; return this; }
        /** Request body limit; default 10 MiB. */
        public Builder withMaxRequestBytes(long n) { this.maxRequestBytes = n; return this; }
        /** Response body limit; default 100 MiB. */
        public Builder withMaxResponseBytes(long n) { this.maxResponseBytes = n; return this; }
        /** Shutdown grace period; default 30 s. */
        public Builder withDrainTimeout(Duration d) { this.drainTimeout = d; return this; }
        /** Pooled upstream connections (seed E's {@code --pool-maxsize}); default twice the concurrency, at least 64. */
        public Builder withPoolMaxSize(Integer n) { this.poolMaxSize = n; return this; }
        /** How often secrets.json is checked for changes; default 10 s; zero: never. */
        public Builder withSecretsReloadInterval(Duration d) { this.secretsReloadInterval = d; return this; }

        /**
         * Validates and returns the configuration.
         *
         * @throws ServerConfigException naming the first setting that is out of range
         */
        public ServerConfig build() {
            boolean demo = secretsFile == null;
            return new ServerConfig(host != null ? host : demo ? "127.0.0.1" : "0.0.0.0", port, secretsFile, elasticsearchUrl, elasticsearchUsername, elasticsearchPassword,
                    elasticsearchEnabled, maxConcurrentRequests, maxQueueSize, maxQueueWait, connectTimeout, readTimeout,
                    retries, circuitBreakerThreshold, circuitBreakerOpenDuration, usageStoreType, usageStoreUri, adminToken,
                    forwardingToken, protectForwarding != null ? protectForwarding : !demo, maxRequestBytes, maxResponseBytes, drainTimeout, poolMaxSize,
                    secretsReloadInterval);
        }
    }
}
