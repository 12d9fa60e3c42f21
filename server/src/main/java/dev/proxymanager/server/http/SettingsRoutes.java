package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RetryPolicy;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.config.Timeouts;
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
    private static final Set<String> ENDPOINT_KEYS = Set.of("rotation", "rotation_interval", "limits", "timeouts", "retry");
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
        m.put("max_queue_wait", maxQueueWait.get().toMillis() + "ms");
        m.put("server", staticSettings);
        Map<String, Object> eps = new LinkedHashMap<>();
        for (String e : new TreeSet<>(forwarder.endpoints())) {
            EndpointConfig c = forwarder.endpointConfig(e);
            Map<String, Object> ep = new LinkedHashMap<>();
            ep.put("rotation", c.rotation().jsonName());
            ep.put("rotation_interval", c.rotationInterval().toMillis() + "ms");
            List<Map<String, Object>> limits = new ArrayList<>();
            for (LimitConfig l : c.limits()) {
                Map<String, Object> lm = new LinkedHashMap<>();
                lm.put("requests", l.requests());
                lm.put("per", l.per().toMillis() + "ms");
                lm.put("cooldown", l.cooldown().toMillis() + "ms");
                limits.add(lm);
            }
            ep.put("limits", limits);
            ep.put("timeouts", Map.of("connect", c.timeouts().connect().toMillis() + "ms",
                    "read", c.timeouts().read().toMillis() + "ms"));
            ep.put("retry", Map.of("max_retries", c.retry().maxRetries(),
                    "backoff_base", c.retry().backoffBase().toMillis() + "ms",
                    "backoff_max", c.retry().backoffMax().toMillis() + "ms",
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
                maxConcurrent = positiveInt(json.get("max_concurrent_requests"), "max_concurrent_requests");
            }
            if (json.has("max_queue_size")) {
                JsonNode n = json.get("max_queue_size");
                if (!n.canConvertToInt() || n.asInt() < 0) {
                    throw new IllegalArgumentException("max_queue_size must be an integer >= 0, was " + n);
                }
                maxQueue = n.asInt();
            }
            if (json.has("max_queue_wait")) {
                wait = duration(json.get("max_queue_wait"), "max_queue_wait");
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
        RotationMethod rotation = c.rotation();
        if (n.has("rotation")) {
            String r = n.get("rotation").asText();
            rotation = null;
            for (RotationMethod m : RotationMethod.values()) {
                if (m.jsonName().equals(r)) {
                    rotation = m;
                }
            }
            if (rotation == null) {
                List<String> names = new ArrayList<>();
                for (RotationMethod m : RotationMethod.values()) {
                    names.add(m.jsonName());
                }
                throw new IllegalArgumentException(path + ".rotation must be one of " + names + ", was '" + r + "'");
            }
        }
        Duration interval = n.has("rotation_interval") ? duration(n.get("rotation_interval"), path + ".rotation_interval")
                : c.rotationInterval();
        List<LimitConfig> limits = c.limits();
        if (n.has("limits")) {
            JsonNode ls = n.get("limits");
            if (!ls.isArray()) {
                throw new IllegalArgumentException(path + ".limits must be an array of {requests, per, cooldown}");
            }
            limits = new ArrayList<>();
            for (int i = 0; i < ls.size(); i++) {
                JsonNode l = ls.get(i);
                String lp = path + ".limits[" + i + "]";
                int requests = l.path("requests").canConvertToInt() ? l.path("requests").asInt() : Integer.MIN_VALUE;
                if (requests <= 0) {
                    throw new IllegalArgumentException(lp + ".requests must be > 0, was " + l.path("requests"));
                }
                Duration per = duration(l.path("per"), lp + ".per");
                Duration cooldown = l.has("cooldown") ? durationOrZero(l.get("cooldown"), lp + ".cooldown") : Duration.ZERO;
                limits.add(new LimitConfig(requests, per, cooldown));
            }
        }
        Timeouts timeouts = c.timeouts();
        if (n.has("timeouts")) {
            JsonNode t = n.get("timeouts");
            Duration connect = t.has("connect") ? duration(t.get("connect"), path + ".timeouts.connect") : timeouts.connect();
            Duration read = t.has("read") ? duration(t.get("read"), path + ".timeouts.read") : timeouts.read();
            if (read.compareTo(Duration.ofSeconds(300)) > 0) {
                throw new IllegalArgumentException(path + ".timeouts.read must be at most 300s, was " + read.toSeconds() + "s");
            }
            timeouts = new Timeouts(connect, read);
        }
        RetryPolicy retry = c.retry();
        if (n.has("retry")) {
            JsonNode r = n.get("retry");
            int max = retry.maxRetries();
            if (r.has("max_retries")) {
                if (!r.get("max_retries").canConvertToInt() || r.get("max_retries").asInt() < 0 || r.get("max_retries").asInt() > 10) {
                    throw new IllegalArgumentException(path + ".retry.max_retries must be between 0 and 10, was " + r.get("max_retries"));
                }
                max = r.get("max_retries").asInt();
            }
            Duration base = r.has("backoff_base") ? duration(r.get("backoff_base"), path + ".retry.backoff_base") : retry.backoffBase();
            Duration bmax = r.has("backoff_max") ? duration(r.get("backoff_max"), path + ".retry.backoff_max") : retry.backoffMax();
            if (bmax.compareTo(base) < 0) {
                throw new IllegalArgumentException(path + ".retry.backoff_max must be >= backoff_base (" + base + "), was " + bmax);
            }
            boolean nonIdem = r.has("retry_non_idempotent") ? r.get("retry_non_idempotent").asBoolean() : retry.retryNonIdempotent();
            retry = new RetryPolicy(max, base, bmax, nonIdem);
        }
        try {
            return new EndpointConfig(c.name(), c.type(), c.baseUrl(), c.allowedHosts(), c.key(), limits, rotation,
                    interval, c.lease(), c.maxHolders(), c.leaseTtl(), c.health(), timeouts, retry, c.cache(), c.secrets(),
                    c.prefetch(), c.limitMargin());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    private static int positiveInt(JsonNode n, String path) {
        if (!n.canConvertToInt() || n.asInt() <= 0) {
            throw new IllegalArgumentException(path + " must be an integer > 0, was " + n);
        }
        return n.asInt();
    }

    private static Duration duration(JsonNode n, String path) {
        Duration d = durationOrZero(n, path);
        if (d.isZero()) {
            throw new IllegalArgumentException(path + " must be > 0, was " + n);
        }
        return d;
    }

    private static Duration durationOrZero(JsonNode n, String path) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            throw new IllegalArgumentException(path + " is required (a duration like 30s)");
        }
        try {
            Duration d = n.isNumber() ? Duration.ofSeconds(n.asLong()) : Durations.parse(n.asText());
            if (d.isNegative()) {
                throw new IllegalArgumentException("negative");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + " must be a duration like 250ms, 30s or 5m, was " + n);
        }
    }
}
