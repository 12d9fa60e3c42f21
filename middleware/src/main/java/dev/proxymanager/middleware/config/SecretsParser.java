package dev.proxymanager.middleware.config;

import dev.proxymanager.middleware.SecretType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.cache.CachePolicy;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns secrets.json text into a {@link SecretsConfig}, with errors that name the JSON path. Not threadsafe. */
final class SecretsParser {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final Map<String, String> env;

    SecretsParser(Map<String, String> env) {
        this.env = env;
    }

    SecretsConfig parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "secrets.json is not valid JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
        Obj top = new Obj(root, "", Set.of("usage_store", "endpoints"));
        UsageStoreSettings store = top.has("usage_store") ? usageStore(top.obj("usage_store",
                Set.of("type", "uri", "mode", "lease_ttl"))) : UsageStoreSettings.DEFAULT;
        JsonNode endpointsNode = top.required("endpoints");
        if (!endpointsNode.isObject() || endpointsNode.isEmpty()) {
            throw new ConfigException("endpoints", "must be an object with at least one endpoint, was " + shown(endpointsNode));
        }
        Map<String, EndpointConfig> endpoints = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = endpointsNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            endpoints.put(e.getKey(), endpoint(e.getKey(), e.getValue(), store));
        }
        return new SecretsConfig(store, endpoints);
    }

    private UsageStoreSettings usageStore(Obj o) {
        String type = o.enumString("type", "memory", List.of("memory", "redis"));
        String uriText = o.string("uri", null);
        URI uri = uriText == null ? null : o.wrap("uri", uriText, URI::create);
        String mode = o.enumString("mode", "fail-open", List.of("fail-open", "fail-closed"));
        Duration ttl = o.positiveDuration("lease_ttl", UsageStoreSettings.DEFAULT.leaseTtl());
        return o.build(() -> new UsageStoreSettings(type, uri, mode.equals("fail-open"), ttl));
    }

    private static final Set<String> ENDPOINT_FIELDS = Set.of("type", "base_url", "allowed_hosts", "key", "limits",
            "rotation", "rotation_interval", "lease", "max_holders", "lease_ttl", "health", "timeouts", "retry",
            "cache", "prefetch", "secrets", "limit_margin");

    private EndpointConfig endpoint(String name, JsonNode node, UsageStoreSettings store) {
        Obj o = new Obj(node, "endpoints." + name, ENDPOINT_FIELDS);
        SecretType type = o.enumValue("type", null, SecretType.values(), SecretType::jsonName);
        EndpointConfig.Builder b = EndpointConfig.builder(name, type);
        String base = o.string("base_url", null);
        if (base == null && type == SecretType.KEY) {
            throw new ConfigException(o.path("base_url"), "is required for a key endpoint");
        }
        if (base != null) {
            URI u = o.wrap("base_url", base, URI::create);
            if (u.getHost() == null || u.getScheme() == null) {
                throw new ConfigException(o.path("base_url"), "must be an absolute http(s) URL, was \"" + base + "\"");
            }
            b.withBaseUrl(u);
        }
        if (o.has("allowed_hosts")) {
            b.withAllowedHosts(o.stringList("allowed_hosts"));
        }
        if (o.has("key")) {
            if (type == SecretType.PROXY) {
                throw new ConfigException(o.path("key"), "applies to key endpoints only; this endpoint is a proxy endpoint");
            }
            Obj k = o.obj("key", Set.of("header", "format", "query"));
            String header = k.string("header", null);
            String format = k.string("format", null);
            String query = k.string("query", null);
            b.withKey(k.build(() -> new KeyPlacement(header, format, query)));
        }
        limits(o, "limits").forEach(b::withLimit);
        if (o.has("limit_margin")) {
            b.withLimitMargin(o.wrap("limit_margin", o.string("limit_margin", null), LimitMargin::parse));
        }
        b.withRotation(o.enumValue("rotation", RotationMethod.LEAST_USED, RotationMethod.values(), RotationMethod::jsonName));
        b.withRotationInterval(o.positiveDuration("rotation_interval", EndpointConfig.DEFAULT_ROTATION_INTERVAL));
        LeaseMode lease = o.enumValue("lease", LeaseMode.NONE, LeaseMode.values(), LeaseMode::jsonName);
        b.withLease(lease);
        b.withMaxHolders(o.positiveInt("max_holders", EndpointConfig.DEFAULT_MAX_HOLDERS));
        Duration leaseTtl = o.positiveDuration("lease_ttl", store.leaseTtl());
        b.withLeaseTtl(leaseTtl);
        if (o.has("health")) {
            b.withHealth(health(o.obj("health", Set.of("ban_statuses", "ban_on_connection_error", "failure_window",
                    "max_consecutive_failures", "consecutive_failures_cooldown", "backoff_base", "backoff_max",
                    "remove_unhealthy"))));
        }
        if (o.has("timeouts")) {
            Obj t = o.obj("timeouts", Set.of("connect", "read"));
            Duration c = t.positiveDuration("connect", Timeouts.DEFAULT.connect());
            Duration r = t.positiveDuration("read", Timeouts.DEFAULT.read());
            b.withTimeouts(t.build(() -> new Timeouts(c, r)));
        }
        if (o.has("retry")) {
            Obj r = o.obj("retry", Set.of("max_retries", "backoff_base", "backoff_max", "retry_non_idempotent"));
            int max = r.nonNegativeInt("max_retries", RetryPolicy.DEFAULT.maxRetries());
            Duration base2 = r.duration("backoff_base", RetryPolicy.DEFAULT.backoffBase());
            Duration cap = r.duration("backoff_max", RetryPolicy.DEFAULT.backoffMax());
            boolean nonIdem = r.bool("retry_non_idempotent", false);
            b.withRetry(r.build(() -> new RetryPolicy(max, base2, cap, nonIdem)));
        }
        if (o.has("cache")) {
            b.withCache(cache(o.obj("cache", Set.of("enabled", "ttl", "methods", "statuses", "vary_headers",
                    "stale_if_error"))));
        }
        if (o.has("prefetch")) {
            PrefetchConfig prefetch = prefetch(o);
            if (prefetch.enabled() && lease != LeaseMode.NONE && prefetch.maxAge().compareTo(leaseTtl) >= 0) {
                throw new ConfigException(o.path("prefetch") + ".max_age", "must be shorter than lease_ttl ("
                        + Durations.describe(leaseTtl) + "), was " + Durations.describe(prefetch.maxAge()));
            }
            b.withPrefetch(prefetch);
        }
        JsonNode secretsNode = o.required("secrets");
        String sp = o.path("secrets");
        if (!secretsNode.isArray() || secretsNode.isEmpty()) {
            throw new ConfigException(sp, "must be a non-empty array of secrets, was " + shown(secretsNode));
        }
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < secretsNode.size(); i++) {
            SecretConfig s = secret(secretsNode.get(i), sp + "[" + i + "]", type);
            if (!ids.add(s.id())) {
                throw new ConfigException(sp + "[" + i + "]", "has id " + s.id() + ", which an earlier secret of this"
                        + " endpoint already has; give each secret a distinct \"id\"");
            }
            b.withSecret(s);
        }
        return o.build(b::build);
    }

    /** {@code "prefetch": 4} (a size) or {@code "prefetch": {"size": 4, "max_age": "500ms"}}. */
    private PrefetchConfig prefetch(Obj endpoint) {
        JsonNode v = endpoint.node.get("prefetch");
        if (v.isNumber()) {
            return PrefetchConfig.of(prefetchSize(endpoint, "prefetch"));
        }
        if (!v.isObject()) {
            throw new ConfigException(endpoint.path("prefetch"), "must be a number of secrets or an object with size"
                    + " and max_age, was " + shown(v));
        }
        Obj p = endpoint.obj("prefetch", Set.of("size", "max_age"));
        p.required("size");
        int size = prefetchSize(p, "size");
        Duration maxAge = p.positiveDuration("max_age", PrefetchConfig.DEFAULT_MAX_AGE);
        return p.build(() -> new PrefetchConfig(size, maxAge));
    }

    private static int prefetchSize(Obj o, String field) {
        int size = o.nonNegativeInt(field, 0);
        if (size > PrefetchConfig.MAX_SIZE) {
            throw new ConfigException(o.path(field), "must be <= " + PrefetchConfig.MAX_SIZE + ", was " + size);
        }
        return size;
    }

    private SecretConfig secret(JsonNode node, String path, SecretType type) {
        if (node.isTextual()) {
            String value = resolve(node.asText(), path);
            checkSecretValue(value, path, type);
            return SecretConfig.of(value);
        }
        Obj o = new Obj(node, path, Set.of("id", "value", "limits"));
        String id = o.string("id", null);
        JsonNode v = o.required("value");
        if (!v.isTextual()) {
            throw new ConfigException(o.path("value"), "must be a string, was a " + v.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        String value = resolve(v.asText(), o.path("value"));
        checkSecretValue(value, o.path("value"), type);
        if (id != null && id.isBlank()) {
            throw new ConfigException(o.path("id"), "must not be blank");
        }
        List<LimitConfig> limits = limits(o, "limits");
        return o.build(() -> new SecretConfig(id == null ? SecretMasking.mask(value) : id, value, limits));
    }

    private static void checkSecretValue(String value, String path, SecretType type) {
        if (value.isEmpty()) {
            throw new ConfigException(path, "must not be empty");
        }
        if (type == SecretType.PROXY) {
            URI u;
            try {
                u = URI.create(value);
            } catch (IllegalArgumentException e) {
                u = null;
            }
            if (u == null || u.getHost() == null || u.getPort() < 0 || u.getScheme() == null) {
                throw new ConfigException(path, "must be a proxy URL like http://host:port, was "
                        + SecretMasking.mask(value));
            }
        }
    }

    private String resolve(String text, String path) {
        Matcher m = ENV_REF.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String var = m.group(1);
            String v = env.get(var);
            if (v == null) {
                throw new ConfigException(path, "references environment variable " + var + ", which is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private List<LimitConfig> limits(Obj o, String field) {
        if (!o.has(field)) {
            return List.of();
        }
        JsonNode arr = o.node.get(field);
        String p = o.path(field);
        if (!arr.isArray()) {
            throw new ConfigException(p, "must be an array of limits like [{\"requests\": 30, \"per\": \"60s\"}], was "
                    + shown(arr));
        }
        List<LimitConfig> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            Obj l = new Obj(arr.get(i), p + "[" + i + "]", Set.of("requests", "per", "cooldown"));
            int requests = l.requiredPositiveInt("requests");
            Duration per = l.positiveDuration("per", null);
            Duration cooldown = l.duration("cooldown", Duration.ZERO);
            out.add(l.build(() -> new LimitConfig(requests, per, cooldown)));
        }
        return out;
    }

    private HealthPolicy health(Obj o) {
        HealthPolicy d = HealthPolicy.DEFAULT;
        Set<Integer> ban = d.banStatuses();
        if (o.has("ban_statuses")) {
            JsonNode arr = o.node.get("ban_statuses");
            if (!arr.isArray()) {
                throw new ConfigException(o.path("ban_statuses"), "must be an array of HTTP statuses, was " + shown(arr));
            }
            ban = new LinkedHashSet<>();
            for (int i = 0; i < arr.size(); i++) {
                JsonNode s = arr.get(i);
                if (!s.isInt() || s.asInt() < 100 || s.asInt() > 599) {
                    throw new ConfigException(o.path("ban_statuses") + "[" + i + "]", "must be an HTTP status 100-599, was "
                            + shown(s));
                }
                ban.add(s.asInt());
            }
        }
        boolean banConn = o.bool("ban_on_connection_error", d.banOnConnectionError());
        int wf = d.failureWindowFailures();
        Duration wp = d.failureWindow();
        Duration wc = d.failureWindowCooldown();
        if (o.has("failure_window")) {
            Obj w = o.obj("failure_window", Set.of("failures", "per", "cooldown"));
            wf = w.positiveInt("failures", wf);
            wp = w.positiveDuration("per", wp);
            wc = w.duration("cooldown", wc);
        }
        int mc = o.positiveInt("max_consecutive_failures", d.maxConsecutiveFailures());
        Duration mcc = o.duration("consecutive_failures_cooldown", d.consecutiveFailuresCooldown());
        Duration bb = o.positiveDuration("backoff_base", d.backoffBase());
        Duration bm = o.positiveDuration("backoff_max", d.backoffMax());
        boolean remove = o.bool("remove_unhealthy", d.removeUnhealthy());
        Set<Integer> banF = ban;
        int wfF = wf;
        Duration wpF = wp;
        Duration wcF = wc;
        return o.build(() -> new HealthPolicy(banF, banConn, wfF, wpF, wcF, mc, mcc, bb, bm, remove));
    }

    private CachePolicy cache(Obj o) {
        CachePolicy.Builder b = CachePolicy.builder();
        b.withEnabled(o.bool("enabled", true));
        b.withTtl(o.positiveDuration("ttl", CachePolicy.DEFAULT_TTL));
        if (o.has("methods")) {
            b.withMethods(new LinkedHashSet<>(o.stringList("methods")));
        }
        if (o.has("statuses")) {
            JsonNode s = o.node.get("statuses");
            String text = s.isInt() ? s.asText() : s.isTextual() ? s.asText().trim() : null;
            Matcher m = text == null ? null : Pattern.compile("(\\d{3})(?:\\s*-\\s*(\\d{3}))?").matcher(text);
            if (m == null || !m.matches()) {
                throw new ConfigException(o.path("statuses"), "must be a status or a range like \"200-299\", was "
                        + shown(s));
            }
            int lo = Integer.parseInt(m.group(1));
            b.withStatuses(lo, m.group(2) == null ? lo : Integer.parseInt(m.group(2)));
        }
        if (o.has("vary_headers")) {
            b.withVaryHeaders(o.stringList("vary_headers"));
        }
        b.withStaleIfError(o.duration("stale_if_error", Duration.ZERO));
        return o.build(b::build);
    }

    /** A wrong value, described without printing what may be a secret (a key pasted in the wrong place). */
    static String shown(JsonNode n) {
        if (n.isArray()) {
            return n.isEmpty() ? "[]" : "an array of " + n.size() + (n.size() == 1 ? " item" : " items");
        }
        if (n.isObject()) {
            List<String> names = new ArrayList<>();
            n.fieldNames().forEachRemaining(names::add);
            return "an object with fields " + names;
        }
        if (n.isTextual() && n.asText().length() > 12) {
            return "\"" + SecretMasking.mask(n.asText()) + "\""; // long enough to be a key: masked
        }
        return n.toString();
    }

    /** A URL as it may be shown in an error: credentials in it replaced. */
    static String withoutUserInfo(String url) {
        return SecretMasking.USER_INFO.matcher(url).replaceAll("//***@");
    }

    /** A JSON object at a path, with its known fields; unknown fields are rejected at construction. */
    private final class Obj {
        final JsonNode node;
        final String path;

        Obj(JsonNode node, String path, Set<String> known) {
            if (node == null || !node.isObject()) {
                throw new ConfigException(path, "must be an object, was " + (node == null ? "missing" : shown(node)));
            }
            this.node = node;
            this.path = path;
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!known.contains(f)) {
                    throw new ConfigException(path(f), "is not a known field; known fields: " + new java.util.TreeSet<>(known));
                }
            }
        }

        String path(String field) {
            return path.isEmpty() ? field : path + "." + field;
        }

        boolean has(String field) {
            return node.has(field) && !node.get(field).isNull();
        }

        JsonNode required(String field) {
            if (!has(field)) {
                throw new ConfigException(path(field), "is required");
            }
            return node.get(field);
        }

        Obj obj(String field, Set<String> known) {
            return new Obj(node.get(field), path(field), known);
        }

        String string(String field, String dflt) {
            if (!has(field)) {
                return dflt;
            }
            JsonNode v = node.get(field);
            if (!v.isTextual()) {
                throw new ConfigException(path(field), "must be a string, was " + shown(v));
            }
            return resolve(v.asText(), path(field));
        }

        List<String> stringList(String field) {
            JsonNode v = node.get(field);
            if (!v.isArray()) {
                throw new ConfigException(path(field), "must be an array of strings, was " + shown(v));
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                if (!v.get(i).isTextual()) {
                    throw new ConfigException(path(field) + "[" + i + "]", "must be a string, was " + shown(v.get(i)));
                }
                out.add(v.get(i).asText());
            }
            return out;
        }

        String enumString(String field, String dflt, List<String> allowed) {
            String s = string(field, dflt);
            if (!allowed.contains(s)) {
                throw new ConfigException(path(field), "must be one of " + allowed + ", was \"" + s + "\"");
            }
            return s;
        }

        <E> E enumValue(String field, E dflt, E[] values, Function<E, String> name) {
            if (!has(field)) {
                if (dflt == null) {
                    throw new ConfigException(path(field), "is required; one of "
                            + java.util.Arrays.stream(values).map(name).toList());
                }
                return dflt;
            }
            String s = string(field, null);
            for (E e : values) {
                if (name.apply(e).equals(s)) {
                    return e;
                }
            }
            throw new ConfigException(path(field), "must be one of " + java.util.Arrays.stream(values).map(name).toList()
                    + ", was \"" + s + "\"");
        }

        int positiveInt(String field, int dflt) {
            if (!has(field)) {
                return dflt;
            }
            int v = intValue(field);
            if (v <= 0) {
                throw new ConfigException(path(field), "must be > 0, was " + v);
            }
            return v;
        }

        int requiredPositiveInt(String field) {
            required(field);
            return positiveInt(field, 0);
        }

        int nonNegativeInt(String field, int dflt) {
            if (!has(field)) {
                return dflt;
            }
            int v = intValue(field);
            if (v < 0) {
                throw new ConfigException(path(field), "must be >= 0, was " + v);
            }
            return v;
        }

        private int intValue(String field) {
            JsonNode v = node.get(field);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new ConfigException(path(field), "must be a whole number, was " + shown(v));
            }
            return v.asInt();
        }

        boolean bool(String field, boolean dflt) {
            if (!has(field)) {
                return dflt;
            }
            JsonNode v = node.get(field);
            if (!v.isBoolean()) {
                throw new ConfigException(path(field), "must be true or false, was " + shown(v));
            }
            return v.asBoolean();
        }

        Duration duration(String field, Duration dflt) {
            if (!has(field)) {
                if (dflt == null) {
                    throw new ConfigException(path(field), "is required; a duration like 90s, 15m or 1h");
                }
                return dflt;
            }
            JsonNode v = node.get(field);
            if (!v.isTextual()) {
                throw new ConfigException(path(field), "must be a duration like 250ms, 90s, 15m, 1h or 1d, was " + shown(v));
            }
            try {
                return Durations.parse(v.asText());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path(field), e.getMessage());
            }
        }

        Duration positiveDuration(String field, Duration dflt) {
            Duration d = duration(field, dflt);
            if (d.isZero() || d.isNegative()) {
                throw new ConfigException(path(field), "must be > 0, was \"" + node.get(field).asText() + "\"");
            }
            return d;
        }

        <T> T wrap(String field, String value, Function<String, T> f) {
            try {
                return f.apply(value);
            } catch (IllegalArgumentException e) {
                // URI.create repeats its input in its message: give the reason only, and the value without credentials
                String reason = e.getCause() instanceof URISyntaxException u ? u.getReason() + " at index " + u.getIndex()
                        : e.getMessage();
                throw new ConfigException(path(field), "is not valid (" + reason + "), was \""
                        + withoutUserInfo(value) + "\"");
            }
        }

        /** Runs a record constructor; its cross-field checks become errors at this object's path. */
        <T> T build(java.util.function.Supplier<T> ctor) {
            try {
                return ctor.get();
            } catch (ConfigException e) {
                throw e;
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new ConfigException(path, e.getMessage());
            }
        }
    }
}
