package dev.proxymanager.middleware.config;

import dev.proxymanager.middleware.quota.QuotaHeaders;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.cache.CachePolicy;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One endpoint of secrets.json: where requests go, which secrets may serve them and under which rules.
 * Build with {@link #builder(String, SecretType)}; every setting but the name, type, secrets and (for keys)
 * {@code baseUrl} has a default, listed on the builder's methods. Immutable and threadsafe.
 */
public record EndpointConfig(String name, SecretType type, URI baseUrl, List<String> allowedHosts, KeyPlacement key,
                             List<LimitConfig> limits, RotationMethod rotation, Duration rotationInterval,
                             LeaseMode lease, int maxHolders, Duration leaseTtl, HealthPolicy health,
                             Timeouts timeouts, RetryPolicy retry, CachePolicy cache, List<SecretConfig> secrets,
                             PrefetchConfig prefetch, LimitMargin limitMargin, List<TargetPattern> allowedTargets,
                             int maxSessionsPerProxy, List<LimitConfig> hostLimits, boolean hostScopedHealth,
                             boolean interceptTls, List<TargetPattern> interceptExclude, QuotaHeaders quotaHeaders,
                             String costHeader, List<QuotaGroup> groups, List<RouteCost> costs) {

    /** Default {@code rotation_interval} for time-based rotation: 30 s. */
    public static final Duration DEFAULT_ROTATION_INTERVAL = Duration.ofSeconds(30);
    /** Default {@code lease_ttl}: 60 s. */
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(60);
    /** Default {@code max_holders} of a shared lease: 4. */
    public static final int DEFAULT_MAX_HOLDERS = 4;
    /** Default {@code max_sessions_per_proxy}: 0, no cap. */
    public static final int DEFAULT_MAX_SESSIONS_PER_PROXY = 0;
    /** The most route buckets (distinct {@code match}es of limits) an endpoint may have: 64. */
    public static final int MAX_ROUTE_BUCKETS = 64;

    public EndpointConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(rotation, "rotation");
        Objects.requireNonNull(rotationInterval, "rotationInterval");
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(leaseTtl, "leaseTtl");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(prefetch, "prefetch");
        Objects.requireNonNull(limitMargin, "limitMargin");
        Objects.requireNonNull(quotaHeaders, "quotaHeaders");
        groups = groups == null ? List.of() : List.copyOf(groups);
        costs = costs == null ? List.of() : List.copyOf(costs);
        if (costHeader != null && costHeader.isBlank()) {
            throw new ConfigException("cost_header", "must name a header, was \"" + costHeader + "\"");
        }
        limits = List.copyOf(limits);
        secrets = List.copyOf(secrets);
        allowedTargets = List.copyOf(allowedTargets);
        hostLimits = List.copyOf(hostLimits);
        interceptExclude = List.copyOf(interceptExclude);
        if (type == SecretType.KEY && (!hostLimits.isEmpty() || hostScopedHealth)) {
            // a key endpoint has one target: its base URL
            throw new ConfigException(hostScopedHealth ? "health.scope" : "limits", "scope \"host\" applies to proxy"
                    + " endpoints only; this endpoint is a key endpoint");
        }
        if (type == SecretType.KEY && !allowedTargets.isEmpty()) {
            throw new ConfigException("allowed_targets", "applies to proxy endpoints only; this endpoint is a key"
                    + " endpoint (its targets are base_url and allowed_hosts)");
        }
        if (type == SecretType.KEY && (interceptTls || !interceptExclude.isEmpty())) {
            // the key path never sees a CONNECT: interception is the proxy port's
            throw new ConfigException(interceptTls ? "intercept_tls" : "intercept_exclude", "applies to proxy"
                    + " endpoints only; this endpoint is a key endpoint");
        }
        SettingDefinitions.MAX_SESSIONS_PER_PROXY.check(maxSessionsPerProxy);
        if (type == SecretType.KEY && baseUrl == null) {
            throw new ConfigException("base_url", "is required for a key endpoint");
        }
        if (type == SecretType.KEY && key == null) {
            key = KeyPlacement.DEFAULT;
        }
        if (type == SecretType.PROXY && key != null) {
            throw new ConfigException("key", "applies to key endpoints only; this endpoint is a proxy endpoint");
        }
        if (allowedHosts == null || allowedHosts.isEmpty()) {
            allowedHosts = baseUrl == null || baseUrl.getHost() == null ? List.of() : List.of(baseUrl.getHost());
        } else {
            allowedHosts = List.copyOf(allowedHosts);
        }
        SettingDefinitions.ROTATION_INTERVAL.check(rotationInterval);
        SettingDefinitions.LEASE_TTL.check(leaseTtl);
        SettingDefinitions.MAX_HOLDERS.check(maxHolders);
        if (secrets.isEmpty()) {
            throw new ConfigException("secrets", "must not be empty");
        }
        if (prefetch.enabled() && lease != LeaseMode.NONE && prefetch.maxAge().compareTo(leaseTtl) >= 0) {
            // a prefetched lease older than its TTL may already be held by someone else
            throw new ConfigException("prefetch.max_age", "must be shorter than lease_ttl ("
                    + Durations.describe(leaseTtl) + "), was " + Durations.describe(prefetch.maxAge()));
        }
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < secrets.size(); i++) {
            if (!ids.add(secrets.get(i).id())) {
                throw new ConfigException("secrets[" + i + "]", "has id " + secrets.get(i).id() + ", which an earlier"
                        + " secret of this endpoint already has (a value listed twice gets the same id); give each"
                        + " secret a distinct \"id\"");
            }
        }
        for (int i = 0; i < hostLimits.size(); i++) {
            if (hostLimits.get(i).match() != null) {
                throw new ConfigException("limits", "a limit with \"scope\": \"host\" takes no \"match\" (the proxy"
                        + " port counts per site, not per route)");
            }
        }
        Set<String> buckets = new HashSet<>();
        limits.forEach(l -> addBucket(buckets, l));
        secrets.forEach(s -> s.limits().forEach(l -> addBucket(buckets, l)));
        if (buckets.size() > MAX_ROUTE_BUCKETS) {
            throw new ConfigException("limits", "may have at most " + MAX_ROUTE_BUCKETS + " distinct \"match\"es"
                    + " (route buckets), was " + buckets.size());
        }
        Set<String> grouped = new HashSet<>();
        Set<String> groupNames = new HashSet<>();
        for (QuotaGroup g : groups) {
            if (!groupNames.add(g.name())) {
                throw new ConfigException("groups." + g.name(), "is defined twice");
            }
            for (String id : g.secretIds()) {
                if (!ids.contains(id)) {
                    throw new ConfigException("groups." + g.name() + ".secrets", "names " + id + ", which is not a"
                            + " secret id of this endpoint");
                }
                if (!grouped.add(id)) {
                    throw new ConfigException("groups." + g.name() + ".secrets", "names " + id + ", which is already"
                            + " in another group (a secret belongs to at most one)");
                }
            }
        }
    }

    private static void addBucket(Set<String> buckets, LimitConfig l) {
        if (l.match() != null) {
            buckets.add(l.match().canonical());
        }
    }

    /**
     * The distinct matches of this endpoint's limits and its secrets' limits, sorted by {@link RouteMatch#canonical()}:
     * the endpoint's route buckets. The order depends on the matches only, never on where they are written.
     */
    public List<RouteMatch> routeBuckets() {
        java.util.TreeMap<String, RouteMatch> sorted = new java.util.TreeMap<>();
        for (LimitConfig l : limits) {
            if (l.match() != null) {
                sorted.put(l.match().canonical(), l.match());
            }
        }
        for (SecretConfig sc : secrets) {
            for (LimitConfig l : sc.limits()) {
                if (l.match() != null) {
                    sorted.put(l.match().canonical(), l.match());
                }
            }
        }
        return List.copyOf(sorted.values());
    }

    /**
     * What a call of {@code method} to {@code path} costs by {@code costs}: the first entry that matches it, else 1.
     */
    public int costOf(String method, String path) {
        for (RouteCost c : costs) {
            if (c.match().matches(method, path)) {
                return c.cost();
            }
        }
        return 1;
    }

    /** Whether limits or health of this endpoint are scoped per target host (the proxy port keeps them per site). */
    public boolean hostScoped() {
        return !hostLimits.isEmpty() || hostScopedHealth;
    }

    /** The holders one secret admits at once: 1 for exclusive, {@code max_holders} for shared, unbounded for none. */
    public int effectiveMaxHolders() {
        return switch (lease) {
            case NONE -> Integer.MAX_VALUE;
            case EXCLUSIVE -> 1;
            case SHARED -> maxHolders;
        };
    }

    /**
     * Whether {@code host} is named by an {@code allowed_hosts} entry, whatever port the entry names
     * ({@code api.example.com}, {@code api.example.com:8443}, {@code [::1]:*}); the key goes only to these hosts.
     */
    public boolean allowsHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        for (String entry : allowedHosts) {
            if (hostOf(entry).equalsIgnoreCase(h)) {
                return true;
            }
        }
        return false;
    }

    /** The host part of an {@code allowed_hosts} entry: without a {@code :port} suffix or IPv6 brackets. */
    public static String hostOf(String entry) {
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            return close < 0 ? entry : entry.substring(1, close);
        }
        int colon = entry.indexOf(':');
        // more than one colon: a bare IPv6 address, which has no port
        return colon < 0 || entry.indexOf(':', colon + 1) >= 0 ? entry : entry.substring(0, colon);
    }

    /** This endpoint with another list of secrets (for live replacement). */
    public EndpointConfig withSecrets(List<SecretConfig> newSecrets) {
        return toBuilder().withSecrets(newSecrets).build();
    }

    /** The group {@code secretId} belongs to, or {@code null}. */
    public QuotaGroup groupOf(String secretId) {
        for (QuotaGroup g : groups) {
            if (g.secretIds().contains(secretId)) {
                return g;
            }
        }
        return null;
    }

    /** A builder holding every setting of this endpoint, to build a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder(name, type);
        b.baseUrl = baseUrl;
        b.allowedHosts = allowedHosts;
        b.key = key;
        b.limits.addAll(limits);
        b.rotation = rotation;
        b.rotationInterval = rotationInterval;
        b.lease = lease;
        b.maxHolders = maxHolders;
        b.leaseTtl = leaseTtl;
        b.health = health;
        b.timeouts = timeouts;
        b.retry = retry;
        b.cache = cache;
        b.prefetch = prefetch;
        b.limitMargin = limitMargin;
        b.allowedTargets = allowedTargets;
        b.maxSessionsPerProxy = maxSessionsPerProxy;
        b.hostLimits = hostLimits;
        b.hostScopedHealth = hostScopedHealth;
        b.interceptTls = interceptTls;
        b.interceptExclude = interceptExclude;
        b.quotaHeaders = quotaHeaders;
        b.costHeader = costHeader;
        b.groups.addAll(groups);
        b.costs = costs;
        b.secrets.addAll(secrets);
        return b;
    }

    /** A builder for endpoint {@code name} of {@code type}. */
    public static Builder builder(String name, SecretType type) {
        return new Builder(name, type);
    }

    /** Builds an {@link EndpointConfig}; {@link #build()} validates. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final String name;
        private final SecretType type;
        private URI baseUrl;
        private List<String> allowedHosts = List.of();
        private KeyPlacement key;
        private final List<LimitConfig> limits = new ArrayList<>();
        private RotationMethod rotation = RotationMethod.LEAST_USED;
        private Duration rotationInterval = DEFAULT_ROTATION_INTERVAL;
        private LeaseMode lease = LeaseMode.NONE;
        private int maxHolders = DEFAULT_MAX_HOLDERS;
        private Duration leaseTtl = DEFAULT_LEASE_TTL;
        private HealthPolicy health = HealthPolicy.DEFAULT;
        private Timeouts timeouts = Timeouts.DEFAULT;
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private CachePolicy cache = CachePolicy.DEFAULT;
        private PrefetchConfig prefetch = PrefetchConfig.OFF;
        private LimitMargin limitMargin = LimitMargin.DEFAULT;
        private List<TargetPattern> allowedTargets = List.of();
        private int maxSessionsPerProxy = DEFAULT_MAX_SESSIONS_PER_PROXY;
        private List<LimitConfig> hostLimits = List.of();
        private boolean hostScopedHealth;
        private boolean interceptTls;
        private List<TargetPattern> interceptExclude = List.of();
        private QuotaHeaders quotaHeaders = QuotaHeaders.AUTO;
        private String costHeader;
        private final List<QuotaGroup> groups = new ArrayList<>();
        private List<RouteCost> costs = List.of();
        private final List<SecretConfig> secrets = new ArrayList<>();

        private Builder(String name, SecretType type) {
            this.name = Objects.requireNonNull(name, "name");
            this.type = Objects.requireNonNull(type, "type");
        }

        /** Required for key endpoints. */
        public Builder withBaseUrl(URI baseUrl) {
            this.baseUrl = baseUrl;
            return this;
        }

        /** Default: the base URL's host. */
        public Builder withAllowedHosts(List<String> hosts) {
            this.allowedHosts = hosts;
            return this;
        }

        /** Default for key endpoints: {@link KeyPlacement#DEFAULT}. */
        public Builder withKey(KeyPlacement key) {
            this.key = key;
            return this;
        }

        /** Replaces the endpoint-wide limits; default none. */
        public Builder withLimits(List<LimitConfig> limits) {
            this.limits.clear();
            limits.forEach(this::withLimit);
            return this;
        }

        /** Adds an endpoint-wide limit (applies to each secret); default none. */
        public Builder withLimit(LimitConfig limit) {
            this.limits.add(Objects.requireNonNull(limit, "limit"));
            return this;
        }

        /** Default {@link RotationMethod#LEAST_USED}. */
        public Builder withRotation(RotationMethod rotation) {
            this.rotation = rotation;
            return this;
        }

        /** Default 30 s; used by time-based rotation. */
        public Builder withRotationInterval(Duration interval) {
            this.rotationInterval = interval;
            return this;
        }

        /** Default {@link LeaseMode#NONE}. */
        public Builder withLease(LeaseMode lease) {
            this.lease = lease;
            return this;
        }

        /** Default 4; used by shared leases. */
        public Builder withMaxHolders(int maxHolders) {
            this.maxHolders = maxHolders;
            return this;
        }

        /** Default 60 s. */
        public Builder withLeaseTtl(Duration ttl) {
            this.leaseTtl = ttl;
            return this;
        }

        /** Default {@link HealthPolicy#DEFAULT}. */
        public Builder withHealth(HealthPolicy health) {
            this.health = health;
            return this;
        }

        /** Default {@link Timeouts#DEFAULT}. */
        public Builder withTimeouts(Timeouts timeouts) {
            this.timeouts = timeouts;
            return this;
        }

        /** Default {@link RetryPolicy#DEFAULT}. */
        public Builder withRetry(RetryPolicy retry) {
            this.retry = retry;
            return this;
        }

        /** Default {@link CachePolicy#DEFAULT}. */
        public Builder withCache(CachePolicy cache) {
            this.cache = cache;
            return this;
        }

        /** Default {@link PrefetchConfig#OFF}: no ready queue. */
        public Builder withPrefetch(PrefetchConfig prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /** Default {@link QuotaHeaders#AUTO}: every known quota header style. */
        public Builder withQuotaHeaders(QuotaHeaders quotaHeaders) {
            this.quotaHeaders = quotaHeaders;
            return this;
        }

        /**
         * Default none. A response header saying how many units the call cost (e.g. GraphQL points used); a cost
         * of N counts N uses in every window (the difference beyond the one counted at the grant is debited after
         * the call, at the call's time).
         */
        public Builder withCostHeader(String costHeader) {
            this.costHeader = costHeader;
            return this;
        }

        /** Default none. Adds a quota group: its members' uses also count against its limits. */
        public Builder withGroup(QuotaGroup group) {
            this.groups.add(Objects.requireNonNull(group, "group"));
            return this;
        }

        /**
         * The targets the proxy port's clients of this proxy endpoint may reach; default none (the proxy port refuses
         * every target). Key endpoints take none.
         */
        public Builder withAllowedTargets(List<TargetPattern> targets) {
            this.allowedTargets = targets;
            return this;
        }

        /** As {@link #withAllowedTargets(List)}, parsing each pattern ({@link TargetPattern#parse}). */
        public Builder withAllowedTargetPatterns(String... patterns) {
            return withAllowedTargets(java.util.Arrays.stream(patterns).map(TargetPattern::parse).toList());
        }

        /** The most sticky sessions of the proxy port bound to one proxy of this endpoint at once; default 0, no cap. */
        public Builder withMaxSessionsPerProxy(int max) {
            this.maxSessionsPerProxy = max;
            return this;
        }

        /**
         * Limits with {@code "scope": "host"}: each holds for each secret per target host of the proxy port
         * ("30 requests per minute per proxy per site"); default none.
         */
        public Builder withHostLimits(List<LimitConfig> limits) {
            this.hostLimits = limits;
            return this;
        }

        /**
         * {@code health.scope: host}: bans and failures of the proxy port's answers count per target host, so a proxy
         * banned by one site keeps serving the others; connection failures and timeouts still count for the proxy.
         * Default false.
         */
        public Builder withHostScopedHealth(boolean hostScoped) {
            this.hostScopedHealth = hostScoped;
            return this;
        }

        /**
         * {@code intercept_tls}: the proxy port answers this endpoint's {@code CONNECT}s itself and reads the requests
         * inside (with a certificate from the server's CA), except to {@link #withInterceptExclude excluded} hosts.
         * Default false. Key endpoints take none.
         */
        public Builder withInterceptTls(boolean intercept) {
            this.interceptTls = intercept;
            return this;
        }

        /** {@code intercept_exclude}: hosts never intercepted, in the grammar of allowed_targets; default none. */
        public Builder withInterceptExclude(List<TargetPattern> hosts) {
            this.interceptExclude = hosts;
            return this;
        }

        /**
         * {@code costs}: what calls cost by route, the first entry matching a call wins; a call no entry matches costs
         * 1. Default none.
         */
        public Builder withCosts(List<RouteCost> costs) {
            this.costs = List.copyOf(costs);
            return this;
        }

        /** Replaces the secrets. */
        public Builder withSecrets(List<SecretConfig> secrets) {
            this.secrets.clear();
            secrets.forEach(this::withSecret);
            return this;
        }

        /** The guard band on every limit of this endpoint; default {@link LimitMargin#DEFAULT}. */
        public Builder withLimitMargin(LimitMargin margin) {
            this.limitMargin = Objects.requireNonNull(margin, "limitMargin");
            return this;
        }

        /** Adds a secret. */
        public Builder withSecret(SecretConfig secret) {
            this.secrets.add(Objects.requireNonNull(secret, "secret"));
            return this;
        }

        /** Adds a secret with an id and no limits of its own. */
        public Builder withSecret(String id, String value) {
            return withSecret(new SecretConfig(id, value, List.of()));
        }

        public EndpointConfig build() {
            return new EndpointConfig(name, type, baseUrl, allowedHosts, key, limits, rotation, rotationInterval,
                    lease, maxHolders, leaseTtl, health, timeouts, retry, cache, secrets, prefetch, limitMargin,
                    allowedTargets, maxSessionsPerProxy, hostLimits, hostScopedHealth, interceptTls, interceptExclude,
                    quotaHeaders, costHeader, groups, costs);
        }
    }
}
