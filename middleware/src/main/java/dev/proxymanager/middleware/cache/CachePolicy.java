package dev.proxymanager.middleware.cache;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * How one endpoint's responses are cached: for how long, which methods and statuses, which request headers vary
 * the key, and how long an expired entry may still be served when the upstream fails.
 *
 * <p>Defaults: {@link #DEFAULT_TTL} (1 hour), methods {@code GET} and {@code HEAD}, statuses 200–299, no vary
 * headers, no stale-if-error. POST is opt-in (the original Python tool cached every method).
 *
 * <p>Instances are immutable and built by {@link #builder()}. This class is threadsafe.
 *
 * @param enabled whether the endpoint caches at all
 * @param ttl how long a stored response is fresh; positive
 * @param methods upper-case HTTP methods whose responses are cached
 * @param minStatus lowest cacheable status (inclusive)
 * @param maxStatus highest cacheable status (inclusive)
 * @param varyHeaders lower-case request header names whose values are part of the cache key
 * @param staleIfError how long past expiry an entry may be served when the upstream fails; zero for never
 */
public record CachePolicy(boolean enabled, Duration ttl, Set<String> methods, int minStatus, int maxStatus,
                          List<String> varyHeaders, Duration staleIfError) {

    /** The default time to live of a cached response: 1 hour. */
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);

    /** The policy used when an endpoint says nothing about caching. */
    public static final CachePolicy DEFAULT = builder().build();

    /** A policy that caches nothing. */
    public static final CachePolicy DISABLED = builder().withEnabled(false).build();

    public CachePolicy {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(methods, "methods");
        Objects.requireNonNull(varyHeaders, "varyHeaders");
        Objects.requireNonNull(staleIfError, "staleIfError");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("cache ttl must be > 0, was " + ttl);
        }
        if (staleIfError.isNegative()) {
            throw new IllegalArgumentException("cache stale_if_error must be >= 0, was " + staleIfError);
        }
        if (minStatus < 100 || maxStatus > 599 || minStatus > maxStatus) {
            throw new IllegalArgumentException(
                    "cache statuses must be a range within 100-599, was " + minStatus + "-" + maxStatus);
        }
        TreeSet<String> upper = new TreeSet<>();
        for (String m : methods) {
            if (m == null || m.isBlank()) {
                throw new IllegalArgumentException("cache methods must not contain a blank method, was " + methods);
            }
            upper.add(m.toUpperCase(Locale.ROOT));
        }
        methods = Set.copyOf(upper);
        varyHeaders = varyHeaders.stream().map(h -> h.toLowerCase(Locale.ROOT)).sorted().distinct().toList();
    }

    /** Whether a response to {@code method} with {@code status} may be stored under this policy. */
    public boolean allows(String method, int status) {
        return enabled && methods.contains(method.toUpperCase(Locale.ROOT)) && status >= minStatus && status <= maxStatus;
    }

    /** Whether requests with {@code method} may be answered from the cache under this policy. */
    public boolean allowsMethod(String method) {
        return enabled && methods.contains(method.toUpperCase(Locale.ROOT));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link CachePolicy}; {@link #build()} validates. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private boolean enabled = true;
        private Duration ttl = DEFAULT_TTL;
        private Set<String> methods = Set.of("GET", "HEAD");
        private int minStatus = 200;
        private int maxStatus = 299;
        private List<String> varyHeaders = List.of();
        private Duration staleIfError = Duration.ZERO;

        private Builder() {
        }

        public Builder withEnabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        public Builder withTtl(Duration ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder withMethods(Set<String> methods) {
            this.methods = methods;
            return this;
        }

        public Builder withStatuses(int minInclusive, int maxInclusive) {
            this.minStatus = minInclusive;
            this.maxStatus = maxInclusive;
            return this;
        }

        public Builder withVaryHeaders(List<String> varyHeaders) {
            this.varyHeaders = varyHeaders;
            return this;
        }

        public Builder withStaleIfError(Duration staleIfError) {
            this.staleIfError = staleIfError;
            return this;
        }

        public CachePolicy build() {
            return new CachePolicy(enabled, ttl, methods, minStatus, maxStatus, varyHeaders, staleIfError);
        }
    }
}
