package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.server.config.ServerConfig;
import dev.proxymanager.server.forward.Forwarder;
import dev.proxymanager.server.limit.ConcurrencyLimiter;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The admin routes (Bearer token required): {@code GET /api/v1/proxies} (per-secret stats, masked values) and
 * {@code GET/PUT /api/v1/settings}. A PUT is validated as a whole — every error names its JSON path — and only then
 * applied live: the limiter is resized and endpoints are replaced in the engine, which keeps usage counts, leases and
 * health of the secrets that remain. Threadsafe.
 */
final class SettingsRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(SettingsRoutes.class);
    private static final Set<String> ENDPOINT_KEYS = SecretsConfig.LIVE_ENDPOINT_FIELDS;
    private static final Set<String> TOP_KEYS = Set.of("max_concurrent_requests", "max_queue_size", "max_queue_wait",
            "endpoints", "server");

    private final Forwarder forwarder;
    private final ConcurrencyLimiter limiter;
    private final AtomicReference<Duration> maxQueueWait;
    private final Map<String, Object> staticSettings;

    SettingsRoutes(Forwarder forwarder, ConcurrencyLimiter limiter, AtomicReference<Duration> maxQueueWait,
                   Map<String, Object> staticSettings) {
        this.forwarder = forwarder;
        this.limiter = limiter;
        this.maxQueueWait = maxQueueWait;
        this.staticSettings = staticSettings;
    }

    void proxies(Request request, Response response, Callback callback) {
        Map<String, Object> body = new LinkedHashMap<>();
        for (String e : new TreeSet<>(forwarder.endpoints())) {
            Map<String, Object> ep = new LinkedHashMap<>();
            EndpointConfig c = forwarder.endpointConfig(e);
            ep.put("type", c.type().jsonName());
            ep.put("rotation", c.rotation().jsonName());
            ep.put("limit_margin", c.limitMargin().describe());
            if (c.type() == dev.proxymanager.middleware.SecretType.PROXY) {
                ep.put("allowed_targets", c.allowedTargets().stream().map(Object::toString).toList());
                ep.put("intercept_tls", c.interceptTls());
                ep.put("intercept_exclude", c.interceptExclude().stream().map(Object::toString).toList());
                ep.put("max_sessions_per_proxy", c.maxSessionsPerProxy());
                if (c.hostScoped()) {
                    ep.put("site_cooldowns", forwarder.siteCooldowns(e));
                }
            }
            ep.put("secrets", forwarder.secretStats(e));
            body.put(e, ep);
        }
        HttpExchange.json(response, callback, 200, Map.of("endpoints", body));
    }

    /** The current settings, in the shape a PUT accepts. */
    Map<String, Object> current() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_concurrent_requests", limiter.maxConcurrent());
        m.put("max_queue_size", limiter.maxQueue());
        m.put("max_queue_wait", Durations.format(maxQueueWait.get()));
        m.put("server", staticSettings);
        Map<String, Object> eps = new LinkedHashMap<>();
        for (String e : new TreeSet<>(forwarder.endpoints())) {
            EndpointConfig c = forwarder.endpointConfig(e);
            Map<String, Object> ep = new LinkedHashMap<>();
            ep.put("rotation", c.rotation().jsonName());
            ep.put("rotation_interval", Durations.format(c.rotationInterval()));
            List<Map<String, Object>> limits = new ArrayList<>();
            for (LimitConfig l : c.limits()) {
                Map<String, Object> lm = new LinkedHashMap<>();
                lm.put("requests", l.requests());
                lm.put("per", Durations.format(l.per()));
                lm.put("cooldown", Durations.format(l.cooldown()));
                if (l.match() != null) {
                    Map<String, Object> match = new LinkedHashMap<>();
                    if (!l.match().methods().isEmpty()) {
                        match.put("methods", l.match().methods());
                    }
                    if (l.match().path() != null) {
                        match.put("path", l.match().path());
                    }
                    lm.put("match", match);
                }
                limits.add(lm);
            }
            ep.put("limits", limits);
            ep.put("timeouts", Map.of("connect", Durations.format(c.timeouts().connect()),
                    "read", Durations.format(c.timeouts().read())));
            ep.put("retry", Map.of("max_retries", c.retry().maxRetries(),
                    "backoff_base", Durations.format(c.retry().backoffBase()),
                    "backoff_max", Durations.format(c.retry().backoffMax()),
                    "retry_non_idempotent", c.retry().retryNonIdempotent()));
            eps.put(e, ep);
        }
        m.put("endpoints", eps);
        return m;
    }

    void get(Request request, Response response, Callback callback) {
        HttpExchange.json(response, callback, 200, current());
    }

    void put(Request request, Response response, Callback callback) throws IOException {
        JsonNode json;
        try {
            json = HttpExchange.JSON.readTree(HttpExchange.readBody(request, 1024 * 1024));
        } catch (IOException e) {
            HttpExchange.error(response, callback, 400, "bad_json", "the body must be a JSON object of settings");
            return;
        }
        if (json == null || !json.isObject()) {
            HttpExchange.error(response, callback, 400, "bad_json", "the body must be a JSON object of settings");
            return;
        }
        List<EndpointConfig> updates = new ArrayList<>();
        int maxConcurrent = limiter.maxConcurrent();
        int maxQueue = limiter.maxQueue();
        Duration wait = maxQueueWait.get();
        try {
            for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!TOP_KEYS.contains(k) || k.equals("server")) {
                    throw new IllegalArgumentException(k + " is not a setting that can change live; live settings: "
                            + new TreeSet<>(TOP_KEYS).headSet("server") + " and endpoints.<name>." + new TreeSet<>(ENDPOINT_KEYS));
                }
            }
            if (json.has("max_concurrent_requests")) {
                maxConcurrent = ServerConfig.MAX_CONCURRENT_REQUESTS.read(json.get("max_concurrent_requests"),
                        "max_concurrent_requests");
            }
            if (json.has("max_queue_size")) {
                maxQueue = ServerConfig.MAX_QUEUE_SIZE.read(json.get("max_queue_size"), "max_queue_size");
            }
            if (json.has("max_queue_wait")) {
                wait = ServerConfig.MAX_QUEUE_WAIT.read(json.get("max_queue_wait"), "max_queue_wait");
            }
            JsonNode eps = json.path("endpoints");
            if (!eps.isMissingNode()) {
                if (!eps.isObject()) {
                    throw new IllegalArgumentException("endpoints must be an object keyed by endpoint name");
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = eps.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    EndpointConfig current;
                    try {
                        current = forwarder.endpointConfig(e.getKey());
                    } catch (Forwarder.UnknownEndpointException ex) {
                        throw new IllegalArgumentException("endpoints." + e.getKey() + ": " + ex.getMessage());
                    }
                    updates.add(apply(current, e.getValue(), "endpoints." + e.getKey()));
                }
            }
        } catch (IllegalArgumentException e) {
            HttpExchange.error(response, callback, 400, "invalid_settings", e.getMessage());
            return;
        }
        limiter.resize(maxConcurrent, maxQueue);
        maxQueueWait.set(wait);
        for (EndpointConfig u : updates) {
            forwarder.updateEndpoint(u);
        }
        LOG.atInfo().setMessage("settings changed").addKeyValue("endpoints", updates.stream().map(EndpointConfig::name).toList())
                .addKeyValue("max_concurrent_requests", maxConcurrent).addKeyValue("max_queue_size", maxQueue).log();
        HttpExchange.json(response, callback, 200, current());
    }

    /** {@code c} with the changes of {@code n}, read by the same definitions as secrets.json. */
    private static EndpointConfig apply(EndpointConfig c, JsonNode n, String path) {
        if (!n.isObject()) {
            throw new IllegalArgumentException(path + " must be an object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!ENDPOINT_KEYS.contains(k)) {
                throw new IllegalArgumentException(path + "." + k + " is not a setting that can change live; known: "
                        + new TreeSet<>(ENDPOINT_KEYS));
            }
        }
        return SecretsConfig.changeEndpoint(c, n, path);
    }
}
