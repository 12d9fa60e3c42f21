package dev.proxymanager.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.proxymanager.middleware.config.ConfigException;
import dev.proxymanager.middleware.config.Setting;
import dev.proxymanager.server.proxy.ForwardProxySettingsLoader;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@link ServerConfig} from a YAML (or JSON) file, then the environment, then command-line overrides — each
 * later source wins. Keys are the snake_case names of server.yaml ({@code port}, {@code secrets_file},
 * {@code max_concurrent_requests}, …); settings shared with secrets.json and {@code PUT /api/v1/settings} are read
 * through the same {@link Setting} definitions, so durations are written as there ({@code 250ms}, {@code 30s},
 * {@code 5m}; a bare number is refused). Unknown keys are refused, so a typo does not silently fall back to a default. This class is threadsafe.
 */
public final class ServerConfigLoader {

    /** Every key server.yaml accepts. */
    public static final Set<String> KEYS = Set.of("host", "port", "secrets_file", "elasticsearch_url", "elasticsearch",
            "max_concurrent_requests", "max_queue_size", "pool_max_size", "secrets_reload_interval", "max_queue_wait", "read_timeout", "connect_timeout", "retries",
            "circuit_breaker_threshold", "circuit_breaker_open_duration", "usage_store", "admin_token_file",
            "forwarding_token_file",
            "protect_forwarding", "max_request_bytes", "max_response_bytes", "drain_timeout");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ServerConfigLoader() {
    }

    /**
     * Loads the configuration.
     *
     * @param file server.yaml, or {@code null} for the defaults (the embedded demo)
     * @param env the environment ({@code ELASTICSEARCH_URL}, {@code ELASTICSEARCH_USERNAME}, {@code ELASTICSEARCH_PASSWORD},
     *            {@code REDIS_URL}, {@code PROXY_MANAGER_ADMIN_TOKEN})
     * @param overrides command-line values by server.yaml key (strings, as typed)
     * @throws ServerConfigException naming the setting when a value is missing, malformed or out of range
     */
    public static ServerConfig load(Path file, Map<String, String> env, Map<String, String> overrides) {
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(overrides, "overrides");
        Map<String, JsonNode> values = new LinkedHashMap<>();
        Path baseDir = Path.of("");
        if (file != null) {
            baseDir = file.toAbsolutePath().getParent();
            JsonNode root = readFile(file);
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                // the proxy_* keys are read by ForwardProxySettingsLoader
                if (!KEYS.contains(e.getKey()) && !ForwardProxySettingsLoader.KEYS.contains(e.getKey())) {
                    throw new ServerConfigException(e.getKey(), "is not a known setting of " + file + "; known settings: "
                            + new TreeSet<>(KEYS));
                }
                values.put(e.getKey(), e.getValue());
            }
        }
        ServerConfig.Builder b = ServerConfig.builder();
        b.withHost(text(values, "host", null));
        b.withPort(integer(values, "port", ServerConfig.DEFAULT_PORT));
        String secrets = text(values, "secrets_file", null);
        if (secrets != null) {
            b.withSecretsFile(baseDir.resolve(secrets));
        }
        String esUrl = firstNonNull(env.get("ELASTICSEARCH_URL"), text(values, "elasticsearch_url", null));
        if (values.containsKey("elasticsearch") && !values.get("elasticsearch").asBoolean(true)) {
            b.withElasticsearchEnabled(false);
        }
        b.withMaxConcurrentRequests(setting(values, ServerConfig.MAX_CONCURRENT_REQUESTS, 200));
        b.withMaxQueueSize(setting(values, ServerConfig.MAX_QUEUE_SIZE, 500));
        b.withMaxQueueWait(setting(values, ServerConfig.MAX_QUEUE_WAIT, Duration.ofSeconds(30)));
        if (values.containsKey("pool_max_size")) {
            b.withPoolMaxSize(integer(values, "pool_max_size", 0));
        }
        b.withConnectTimeout(setting(values, ServerConfig.CONNECT_TIMEOUT, Duration.ofSeconds(10)));
        b.withReadTimeout(setting(values, ServerConfig.READ_TIMEOUT, Duration.ofSeconds(300)));
        if (values.containsKey("retries")) {
            b.withRetries(setting(values, ServerConfig.RETRIES, 0));
        }
        b.withCircuitBreakerThreshold(integer(values, "circuit_breaker_threshold", 5));
        b.withCircuitBreakerOpenDuration(setting(values, ServerConfig.CIRCUIT_BREAKER_OPEN_DURATION,
                Duration.ofSeconds(30)));
        if (values.containsKey("protect_forwarding")) {
            b.withProtectForwarding(bool(values, "protect_forwarding", true));
        }
        b.withMaxRequestBytes(longValue(values, "max_request_bytes", 10L * 1024 * 1024));
        b.withMaxResponseBytes(longValue(values, "max_response_bytes", 100L * 1024 * 1024));
        b.withDrainTimeout(setting(values, ServerConfig.DRAIN_TIMEOUT, Duration.ofSeconds(30)));
        b.withSecretsReloadInterval(setting(values, ServerConfig.SECRETS_RELOAD_INTERVAL, Duration.ofSeconds(10)));

        // usage_store: { type, uri }; REDIS_URL fills in the URI
        String storeType = null;
        String storeUri = env.get("REDIS_URL");
        JsonNode store = values.get("usage_store");
        if (store != null && !store.isNull()) {
            if (!store.isObject()) {
                throw new ServerConfigException("usage_store", "must be a map with type and uri, was " + store);
            }
            for (Iterator<String> it = store.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!k.equals("type") && !k.equals("uri")) {
                    throw new ServerConfigException("usage_store." + k, "is not a known setting; known: [type, uri]");
                }
            }
            storeType = store.path("type").isMissingNode() ? null : store.path("type").asText();
            if (store.hasNonNull("uri")) {
                storeUri = store.get("uri").asText();
            }
        }
        String tokenFile = text(values, "admin_token_file", null);
        String token = env.get("PROXY_MANAGER_ADMIN_TOKEN");
        if (tokenFile != null) {
            token = readToken("admin_token_file", baseDir.resolve(tokenFile));
        }
        String forwardingTokenFile = text(values, "forwarding_token_file", null);
        String forwardingToken = env.get("PROXY_MANAGER_FORWARDING_TOKEN");
        if (forwardingTokenFile != null) {
            forwardingToken = readToken("forwarding_token_file", baseDir.resolve(forwardingTokenFile));
        }

        // command-line overrides, by the same names
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            String key = o.getKey();
            String v = o.getValue();
            if (v == null) {
                continue;
            }
            switch (key) {
                case "port" -> b.withPort(parseInt(key, v));
                case "host" -> b.withHost(v);
                case "secrets_file" -> b.withSecretsFile(Path.of(v));
                case "elasticsearch_url" -> esUrl = v;
                case "max_concurrent_requests" -> b.withMaxConcurrentRequests(parse(ServerConfig.MAX_CONCURRENT_REQUESTS, v));
                case "max_queue_size" -> b.withMaxQueueSize(parse(ServerConfig.MAX_QUEUE_SIZE, v));
                case "pool_max_size" -> b.withPoolMaxSize(parseInt(key, v));
                case "read_timeout" -> b.withReadTimeout(parse(ServerConfig.READ_TIMEOUT, v));
                case "connect_timeout" -> b.withConnectTimeout(parse(ServerConfig.CONNECT_TIMEOUT, v));
                case "retries" -> b.withRetries(parse(ServerConfig.RETRIES, v));
                case "circuit_breaker_threshold" -> b.withCircuitBreakerThreshold(parseInt(key, v));
                case "drain_timeout" -> b.withDrainTimeout(parse(ServerConfig.DRAIN_TIMEOUT, v));
                case "protect_forwarding" -> b.withProtectForwarding(Boolean.parseBoolean(v));
                case "admin_token_file" -> token = readToken(key, Path.of(v));
                case "forwarding_token_file" -> forwardingToken = readToken(key, Path.of(v));
                case "max_request_bytes" -> b.withMaxRequestBytes(parseLong(key, v));
                case "max_response_bytes" -> b.withMaxResponseBytes(parseLong(key, v));
                default -> throw new ServerConfigException(key, "is not a setting the command line can override");
            }
        }
        if (esUrl != null && !esUrl.isBlank()) {
            b.withElasticsearchUrl(uri("elasticsearch_url", esUrl));
        }
        b.withElasticsearchCredentials(env.get("ELASTICSEARCH_USERNAME"), env.get("ELASTICSEARCH_PASSWORD"));
        if (storeType == null && storeUri != null) {
            storeType = "redis";
        }
        b.withUsageStore(storeType, storeUri == null ? null : uri("usage_store.uri", storeUri));
        b.withAdminToken(token == null || token.isBlank() ? null : token.strip());
        b.withForwardingToken(forwardingToken == null || forwardingToken.isBlank() ? null : forwardingToken.strip());
        return b.build();
    }

    /**
     * server.yaml as a map of settings: the one reader every part of the server's configuration uses (the proxy port,
     * interception and body-ban settings included); an empty map for {@code null} or an empty file.
     *
     * @throws ServerConfigException when the file cannot be read, is not YAML or is not a map
     */
    public static JsonNode readYaml(Path file) {
        return file == null ? YAML.createObjectNode() : readFile(file);
    }

    private static JsonNode readFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ServerConfigException("--config", "cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            JsonNode root = YAML.readTree(text);
            if (root == null || root.isMissingNode() || root.isNull()) {
                return YAML.createObjectNode();
            }
            if (!(root instanceof ObjectNode)) {
                throw new ServerConfigException("--config", file + " must hold a map of settings, was " + root.getNodeType());
            }
            return root;
        } catch (IOException e) {
            throw new ServerConfigException("--config", file + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static String readToken(String setting, Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new ServerConfigException(setting, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String firstNonNull(String a, String b) {
        return a != null && !a.isBlank() ? a : b;
    }

    private static String text(Map<String, JsonNode> v, String key, String def) {
        JsonNode n = v.get(key);
        if (n == null || n.isNull()) {
            return def;
        }
        if (!n.isValueNode()) {
            throw new ServerConfigException(key, "must be a single value, was " + n);
        }
        return n.asText();
    }

    private static int integer(Map<String, JsonNode> v, String key, int def) {
        String t = text(v, key, null);
        return t == null ? def : parseInt(key, t);
    }

    private static long longValue(Map<String, JsonNode> v, String key, long def) {
        String t = text(v, key, null);
        return t == null ? def : parseLong(key, t);
    }

    private static boolean bool(Map<String, JsonNode> v, String key, boolean def) {
        String t = text(v, key, null);
        if (t == null) {
            return def;
        }
        if (!t.equals("true") && !t.equals("false")) {
            throw new ServerConfigException(key, "must be true or false, was " + t);
        }
        return Boolean.parseBoolean(t);
    }

    /** A setting of the file read through its definition, as secrets.json and PUT read it. */
    private static <T extends Comparable<? super T>> T setting(Map<String, JsonNode> v, Setting<T> setting, T def) {
        JsonNode n = v.get(setting.name());
        if (n == null || n.isNull()) {
            return def;
        }
        try {
            return setting.read(n, setting.name());
        } catch (ConfigException e) {
            throw new ServerConfigException(setting.name(), e.reason());
        }
    }

    /** A setting typed on the command line, read through its definition. */
    private static <T extends Comparable<? super T>> T parse(Setting<T> setting, String text) {
        try {
            return setting.parse(text, setting.name());
        } catch (ConfigException e) {
            throw new ServerConfigException(setting.name(), e.reason());
        }
    }

    static int parseInt(String key, String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new ServerConfigException(key, "must be a whole number, was '" + text + "'");
        }
    }

    static long parseLong(String key, String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new ServerConfigException(key, "must be a whole number of bytes, was '" + text + "'");
        }
    }

    private static URI uri(String key, String text) {
        try {
            URI u = URI.create(text.strip());
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
            return u;
        } catch (IllegalArgumentException e) {
            // the URI may carry a password: name the setting, not the value
            throw new ServerConfigException(key, "must be an absolute URL with a scheme and host");
        }
    }
}
