package dev.proxymanager.middleware.config;

import dev.proxymanager.middleware.quota.QuotaHeaders;
import dev.proxymanager.middleware.SecretType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.cache.CachePolicy;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns secrets.json text into a {@link SecretsConfig}, with errors that name the JSON path. Not threadsafe. */
final class SecretsParser {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final Map<String, String> env;
    private final Supplier<SecretIds> fallbackIds;
    private Supplier<SecretIds> ids;

    /**
     * @param env where {@code ${NAME}} references and {@value SecretIds#SALT_ENVIRONMENT_VARIABLE} are looked up
     * @param fallbackIds the ids to derive with when neither {@code id_salt} nor the environment gives a salt;
     *                    asked only when a secret has no {@code id}
     */
    SecretsParser(Map<String, String> env, Supplier<SecretIds> fallbackIds) {
        this.env = env;
        this.fallbackIds = fallbackIds;
        this.ids = fallbackIds;
    }

    SecretsConfig parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException("", "secrets.json is not valid JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
        Obj top = new Obj(root, "", Set.of("usage_store", "id_salt", "endpoints"));
        ids = idsOf(top);
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
        Duration ttl = o.get(SettingDefinitions.LEASE_TTL, "lease_ttl", UsageStoreSettings.DEFAULT.leaseTtl());
        return o.build(() -> new UsageStoreSettings(type, uri, mode.equals("fail-open"), ttl));
    }

    private static final Set<String> ENDPOINT_FIELDS = Set.of("type", "base_url", "allowed_hosts", "key", "limits",
            "rotation", "rotation_interval", "lease", "max_holders", "lease_ttl", "health", "timeouts", "retry",
            "cache", "prefetch", "quota_headers", "cost_header", "costs", "groups", "secrets", "limit_margin",
            "allowed_targets", "max_sessions_per_proxy", "intercept_tls", "intercept_exclude");

    private EndpointConfig endpoint(String name, JsonNode node, UsageStoreSettings store) {
        Obj o = new Obj(node, "endpoints." + name, ENDPOINT_FIELDS);
        SecretType type = o.enumValue("type", null, SecretType.values(), SecretType::jsonName);
        EndpointConfig.Builder b = EndpointConfig.builder(name, type);
        String base = o.string("base_url", null);
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
        if (o.has("allowed_targets")) {
            b.withAllowedTargets(targetPatterns(o, "allowed_targets"));
        }
        b.withInterceptTls(o.bool("intercept_tls", false));
        if (o.has("intercept_exclude")) {
            b.withInterceptExclude(targetPatterns(o, "intercept_exclude"));
        }
        b.withMaxSessionsPerProxy(o.get(SettingDefinitions.MAX_SESSIONS_PER_PROXY, "max_sessions_per_proxy",
                EndpointConfig.DEFAULT_MAX_SESSIONS_PER_PROXY));
        if (o.has("key")) {
            Obj k = o.obj("key", Set.of("header", "format", "query"));
            String header = k.string("header", null);
            String format = k.string("format", null);
            String query = k.string("query", null);
            b.withKey(k.build(() -> new KeyPlacement(header, format, query)));
        }
        b.withLease(o.enumValue("lease", LeaseMode.NONE, LeaseMode.values(), LeaseMode::jsonName));
        b.withMaxHolders(o.get(SettingDefinitions.MAX_HOLDERS, "max_holders", EndpointConfig.DEFAULT_MAX_HOLDERS));
        b.withLeaseTtl(o.get(SettingDefinitions.LEASE_TTL, "lease_ttl", store.leaseTtl()));
        if (o.has("limit_margin")) {
            b.withLimitMargin(o.wrap("limit_margin", o.string("limit_margin", null), LimitMargin::parse));
        }
        liveSettings(o, b, null);
        if (o.has("health")) {
            Obj h = o.obj("health", Set.of("ban_statuses", "ban_on_connection_error", "failure_window",
                    "max_consecutive_failures", "consecutive_failures_cooldown", "backoff_base", "backoff_max",
                    "remove_unhealthy", "ban_body_pattern", "scope"));
            b.withHealth(health(h));
            b.withHostScopedHealth(h.enumString("scope", SCOPE_SECRET, SCOPES).equals(SCOPE_HOST));
        }
        if (o.has("cache")) {
            b.withCache(cache(o.obj("cache", Set.of("enabled", "ttl", "methods", "statuses", "vary_headers",
                    "stale_if_error"))));
        }
        if (o.has("prefetch")) {
            b.withPrefetch(prefetch(o));
        }
        if (o.has("quota_headers")) {
            b.withQuotaHeaders(quotaHeaders(o));
        }
        b.withCostHeader(o.string("cost_header", null));
        if (o.has("costs")) {
            b.withCosts(costs(o));
        }
        if (o.has("groups")) {
            JsonNode groups = o.required("groups");
            if (!groups.isObject()) {
                throw new ConfigException(o.path("groups"), "must be an object of named groups, was " + shown(groups));
            }
            Set<String> groupNames = new LinkedHashSet<>();
            groups.fieldNames().forEachRemaining(groupNames::add);
            Obj all = new Obj(groups, o.path("groups"), groupNames);
            Iterator<String> names = groups.fieldNames();
            while (names.hasNext()) {
                String groupName = names.next();
                Obj g = all.obj(groupName, Set.of("limits", "secrets"));
                List<LimitConfig> groupLimits = limits(g, "limits", null);
                List<String> members = g.stringList("secrets");
                b.withGroup(g.build(() -> new QuotaGroup(groupName, groupLimits, members)));
            }
        }
        JsonNode secretsNode = o.required("secrets");
        String sp = o.path("secrets");
        if (!secretsNode.isArray() || secretsNode.isEmpty()) {
            throw new ConfigException(sp, "must be a non-empty array of secrets, was " + shown(secretsNode));
        }
        for (int i = 0; i < secretsNode.size(); i++) {
            b.withSecret(secret(secretsNode.get(i), sp + "[" + i + "]", type));
        }
        return o.build(b::build); // the endpoint's own checks (distinct ids, ...) name their field under o's path
    }

    /** A list of {@link TargetPattern}s, each error naming the entry ({@code endpoints.crawl.allowed_targets[2]}). */
    private static List<TargetPattern> targetPatterns(Obj o, String field) {
        List<String> texts = o.stringList(field);
        List<TargetPattern> patterns = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            try {
                patterns.add(TargetPattern.parse(texts.get(i)));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(o.path(field) + "[" + i + "]", e.getMessage());
            }
        }
        return patterns;
    }

    /** The endpoint settings {@code PUT /api/v1/settings} may change: those of {@link #liveSettings}. */
    static final Set<String> LIVE_ENDPOINT_FIELDS = Set.of("rotation", "rotation_interval", "limits", "timeouts", "retry");

    /** {@code current} with the live settings in {@code changes} read as secrets.json reads them. */
    EndpointConfig changeEndpoint(EndpointConfig current, JsonNode changes, String path) {
        Obj o = new Obj(changes, path, LIVE_ENDPOINT_FIELDS);
        EndpointConfig.Builder b = current.toBuilder();
        liveSettings(o, b, current);
        return o.build(b::build);
    }

    /**
     * Reads the settings that can also change live into {@code b}; a setting that {@code o} leaves out keeps its
     * value in {@code current} (a field left out of {@code timeouts} or {@code retry} too), or the default when
     * {@code current} is null.
     */
    private void liveSettings(Obj o, EndpointConfig.Builder b, EndpointConfig current) {
        if (o.has("limits")) {
            List<LimitConfig> perHost = new ArrayList<>();
            b.withLimits(limits(o, "limits", perHost));
            b.withHostLimits(perHost);
        }
        b.withRotation(o.enumValue("rotation", current == null ? RotationMethod.LEAST_USED : current.rotation(),
                RotationMethod.values(), RotationMethod::jsonName));
        b.withRotationInterval(o.get(SettingDefinitions.ROTATION_INTERVAL, "rotation_interval",
                current == null ? EndpointConfig.DEFAULT_ROTATION_INTERVAL : current.rotationInterval()));
        if (o.has("timeouts")) {
            Timeouts d = current == null ? Timeouts.DEFAULT : current.timeouts();
            Obj t = o.obj("timeouts", Set.of("connect", "read"));
            Duration c = t.get(SettingDefinitions.CONNECT_TIMEOUT, "connect", d.connect());
            Duration r = t.get(SettingDefinitions.READ_TIMEOUT, "read", d.read());
            b.withTimeouts(t.build(() -> new Timeouts(c, r)));
        }
        if (o.has("retry")) {
            RetryPolicy d = current == null ? RetryPolicy.DEFAULT : current.retry();
            Obj r = o.obj("retry", Set.of("max_retries", "backoff_base", "backoff_max", "retry_non_idempotent"));
            int max = r.get(SettingDefinitions.RETRY_MAX_RETRIES, "max_retries", d.maxRetries());
            Duration base = r.get(SettingDefinitions.RETRY_BACKOFF_BASE, "backoff_base", d.backoffBase());
            Duration cap = r.get(SettingDefinitions.RETRY_BACKOFF_MAX, "backoff_max", d.backoffMax());
            boolean nonIdem = r.bool("retry_non_idempotent", d.retryNonIdempotent());
            b.withRetry(r.build(() -> new RetryPolicy(max, base, cap, nonIdem)));
        }
    }

    /** The ids of secrets without an {@code id}: salted by {@code id_salt}, the environment or the fallback. */
    private Supplier<SecretIds> idsOf(Obj top) {
        String salt = top.string("id_salt", null);
        String field = "id_salt";
        if (salt == null && env.get(SecretIds.SALT_ENVIRONMENT_VARIABLE) != null) {
            salt = env.get(SecretIds.SALT_ENVIRONMENT_VARIABLE);
            field = SecretIds.SALT_ENVIRONMENT_VARIABLE;
        }
        if (salt == null) {
            SecretIds[] made = new SecretIds[1]; // the fallback may create a file: only when needed, and once
            return () -> made[0] != null ? made[0] : (made[0] = fallbackIds.get());
        }
        try {
            SecretIds given = SecretIds.withSalt(salt);
            return () -> given;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(field, e.getMessage()); // the message never repeats the salt
        }
    }

    /**
     * {@code "quota_headers": "auto"} (default), {@code "off"}, or {@code {"limit": H, "remaining": H, "reset": H,
     * "reset_format": "auto"|"epoch-seconds"|"seconds"}} naming the headers ({@code limit} optional).
     */
    private QuotaHeaders quotaHeaders(Obj endpoint) {
        JsonNode v = endpoint.node.get("quota_headers");
        if (v.isTextual()) {
            String s = endpoint.enumString("quota_headers", null, List.of("auto", "off"));
            return s.equals("off") ? QuotaHeaders.OFF
                    : QuotaHeaders.AUTO;
        }
        if (!v.isObject()) {
            throw new ConfigException(endpoint.path("quota_headers"), "must be \"auto\", \"off\" or an object with "
                    + "remaining, reset, limit and reset_format, was " + shown(v));
        }
        Obj m = endpoint.obj("quota_headers", Set.of("limit", "remaining", "reset", "reset_format"));
        String limit = m.string("limit", null);
        String remaining = m.string("remaining", null);
        String reset = m.string("reset", null);
        if (remaining == null || reset == null) {
            throw new ConfigException(m.path(remaining == null ? "remaining" : "reset"),
                    "is required in a quota_headers mapping");
        }
        String format = m.enumString("reset_format", "auto", List.of("auto", "epoch-seconds", "seconds"));
        return QuotaHeaders.mapping(limit, remaining, reset, switch (format) {
            case "epoch-seconds" -> QuotaHeaders.ResetFormat.EPOCH_SECONDS;
            case "seconds" -> QuotaHeaders.ResetFormat.SECONDS;
            default -> QuotaHeaders.ResetFormat.AUTO;
        });
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
        Duration maxAge = p.get(SettingDefinitions.PREFETCH_MAX_AGE, "max_age", PrefetchConfig.DEFAULT_MAX_AGE);
        return p.build(() -> new PrefetchConfig(size, maxAge));
    }

    private static int prefetchSize(Obj o, String field) {
        return o.get(SettingDefinitions.PREFETCH_SIZE, field, 0);
    }

    private SecretConfig secret(JsonNode node, String path, SecretType type) {
        if (node.isTextual()) {
            String value = resolve(node.asText(), path);
            checkSecretValue(value, path, type);
            return new SecretConfig(ids.get().idFor(value), value, List.of());
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
        List<LimitConfig> limits = limits(o, "limits", null);
        String secretId = id == null ? ids.get().idFor(value) : id;
        return o.build(() -> new SecretConfig(secretId, value, limits));
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

    /**
     * The limits at {@code field}; those with {@code "scope": "host"} go to {@code perHost} instead ({@code null}:
     * no scope allowed here).
     */
    private List<LimitConfig> limits(Obj o, String field, List<LimitConfig> perHost) {
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
            Obj l = new Obj(arr.get(i), p + "[" + i + "]", perHost == null ? Set.of("requests", "per", "cooldown",
                    "match") : Set.of("requests", "per", "cooldown", "scope", "match"));
            int requests = l.get(SettingDefinitions.LIMIT_REQUESTS, "requests", null);
            Duration per = l.get(SettingDefinitions.LIMIT_PER, "per", null);
            Duration cooldown = l.get(SettingDefinitions.LIMIT_COOLDOWN, "cooldown", Duration.ZERO);
            RouteMatch match = l.has("match") ? match(l) : null;
            LimitConfig limit = l.build(() -> new LimitConfig(requests, per, cooldown, match));
            if (perHost != null && l.enumString("scope", SCOPE_SECRET, SCOPES).equals(SCOPE_HOST)) {
                if (match != null) {
                    throw new ConfigException(l.path("match"), "does not go with \"scope\": \"host\" (the proxy port"
                            + " counts per site, not per route)");
                }
                perHost.add(limit);
            } else {
                out.add(limit);
            }
        }
        return out;
    }

    /** {@code "match": {"methods": [...], "path": "/search/*"}} of a limit or a cost, checked by {@link RouteMatch}. */
    private RouteMatch match(Obj parent) {
        Obj m = parent.obj("match", Set.of("methods", "path"));
        List<String> methods = m.has("methods") ? m.stringList("methods") : List.of();
        String path = m.string("path", null);
        return m.build(() -> new RouteMatch(methods, path));
    }

    /** {@code "costs": [{"match": {...}, "cost": 10}, ...]}: what calls cost by route, first match wins. */
    private List<RouteCost> costs(Obj endpoint) {
        JsonNode arr = endpoint.node.get("costs");
        String p = endpoint.path("costs");
        if (!arr.isArray()) {
            throw new ConfigException(p, "must be an array like [{\"match\": {\"path\": \"/search/*\"}, \"cost\": 10}],"
                    + " was " + shown(arr));
        }
        List<RouteCost> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            Obj c = new Obj(arr.get(i), p + "[" + i + "]", Set.of("match", "cost"));
            c.required("match");
            RouteMatch match = match(c);
            int cost = c.get(SettingDefinitions.COST.as("cost"), "cost", null);
            out.add(c.build(() -> new RouteCost(match, cost)));
        }
        return out;
    }

    /** {@code scope} of a limit or of the health policy: each secret (default) or each secret per target host. */
    static final String SCOPE_SECRET = "secret";
    static final String SCOPE_HOST = "host";
    private static final List<String> SCOPES = List.of(SCOPE_SECRET, SCOPE_HOST);

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
            wf = w.get(SettingDefinitions.FAILURE_WINDOW_FAILURES, "failures", wf);
            wp = w.get(SettingDefinitions.FAILURE_WINDOW_PER, "per", wp);
            wc = w.get(SettingDefinitions.FAILURE_WINDOW_COOLDOWN, "cooldown", wc);
        }
        int mc = o.get(SettingDefinitions.MAX_CONSECUTIVE_FAILURES, "max_consecutive_failures", d.maxConsecutiveFailures());
        Duration mcc = o.get(SettingDefinitions.CONSECUTIVE_FAILURES_COOLDOWN, "consecutive_failures_cooldown",
                d.consecutiveFailuresCooldown());
        Duration bb = o.get(SettingDefinitions.HEALTH_BACKOFF_BASE, "backoff_base", d.backoffBase());
        Duration bm = o.get(SettingDefinitions.HEALTH_BACKOFF_MAX, "backoff_max", d.backoffMax());
        boolean remove = o.bool("remove_unhealthy", d.removeUnhealthy());
        Set<Integer> banF = ban;
        int wfF = wf;
        Duration wpF = wp;
        Duration wcF = wc;
        String bodyRegex = o.string("ban_body_pattern", null);
        BanBodyPattern bodyPattern = null;
        if (bodyRegex != null) {
            try {
                bodyPattern = BanBodyPattern.compile(bodyRegex);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(o.path("ban_body_pattern"), e.getMessage());
            }
        }
        BanBodyPattern bodyPatternF = bodyPattern;
        return o.build(() -> new HealthPolicy(banF, banConn, wfF, wpF, wcF, mc, mcc, bb, bm, remove, bodyPatternF));
    }

    private CachePolicy cache(Obj o) {
        CachePolicy.Builder b = CachePolicy.builder();
        b.withEnabled(o.bool("enabled", true));
        b.withTtl(o.get(SettingDefinitions.CACHE_TTL, "ttl", CachePolicy.DEFAULT_TTL));
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
        b.withStaleIfError(o.get(SettingDefinitions.CACHE_STALE_IF_ERROR, "stale_if_error", Duration.ZERO));
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

        /** The value of {@code field} read through its definition; {@code dflt} when absent ({@code null}: required). */
        <T extends Comparable<? super T>> T get(Setting<T> setting, String field, T dflt) {
            if (!has(field)) {
                if (dflt == null) {
                    throw new ConfigException(path(field), "is required");
                }
                return dflt;
            }
            return setting.read(node.get(field), path(field));
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

        /**
         * Runs a record constructor; its checks become errors at this object's path (a {@link ConfigException} names
         * a field relative to the record, which is put under this path).
         */
        <T> T build(Supplier<T> ctor) {
            try {
                return ctor.get();
            } catch (ConfigException e) {
                throw new ConfigException(e.path().isEmpty() ? path : path(e.path()), e.reason(), e);
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new ConfigException(path, e.getMessage());
            }
        }
    }
}
