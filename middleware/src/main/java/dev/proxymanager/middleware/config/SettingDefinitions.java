package dev.proxymanager.middleware.config;

import java.time.Duration;

/**
 * The definition of every bounded endpoint setting: names (JSON paths relative to the endpoint), units and bounds.
 * {@link SecretsParser}, the records' constructors, {@code PUT /api/v1/settings} and server.yaml (whose
 * {@code read_timeout}, {@code connect_timeout} and {@code retries} are these under other names) all read through
 * them. This class is threadsafe.
 */
public final class SettingDefinitions {

    /** The longest read timeout: 300 s. */
    public static final Duration MAX_READ_TIMEOUT = Duration.ofSeconds(300);
    /** The most retries of one request: 10. */
    public static final int MAX_RETRIES = 10;

    public static final Setting<Duration> ROTATION_INTERVAL = Setting.positiveDuration("rotation_interval", null);
    public static final Setting<Duration> LEASE_TTL = Setting.positiveDuration("lease_ttl", null);
    public static final Setting<Integer> MAX_HOLDERS = Setting.wholeNumber("max_holders", 1, Integer.MAX_VALUE);
    /** 0: no cap. */
    public static final Setting<Integer> MAX_SESSIONS_PER_PROXY =
            Setting.wholeNumber("max_sessions_per_proxy", 0, Integer.MAX_VALUE);

    public static final Setting<Integer> LIMIT_REQUESTS = Setting.wholeNumber("limits.requests", 1, Integer.MAX_VALUE);
    public static final Setting<Duration> LIMIT_PER = Setting.positiveDuration("limits.per", null);
    public static final Setting<Duration> LIMIT_COOLDOWN = Setting.nonNegativeDuration("limits.cooldown");

    /** The most uses one call may cost: 100 000 (a bound on one store call's size). */
    public static final int MAX_COST = 100_000;
    /** A call's cost ({@code costs[i].cost}, {@code SendOptions.withCost}, the server's cost header). */
    public static final Setting<Integer> COST = Setting.wholeNumber("costs.cost", 1, MAX_COST);

    public static final Setting<Duration> CONNECT_TIMEOUT = Setting.positiveDuration("timeouts.connect", null);
    public static final Setting<Duration> READ_TIMEOUT = Setting.positiveDuration("timeouts.read", MAX_READ_TIMEOUT);

    public static final Setting<Integer> RETRY_MAX_RETRIES = Setting.wholeNumber("retry.max_retries", 0, MAX_RETRIES);
    public static final Setting<Duration> RETRY_BACKOFF_BASE = Setting.nonNegativeDuration("retry.backoff_base");
    public static final Setting<Duration> RETRY_BACKOFF_MAX = Setting.nonNegativeDuration("retry.backoff_max");

    public static final Setting<Integer> PREFETCH_SIZE = Setting.wholeNumber("prefetch.size", 0, PrefetchConfig.MAX_SIZE);
    public static final Setting<Duration> PREFETCH_MAX_AGE = Setting.positiveDuration("prefetch.max_age", null);

    public static final Setting<Integer> FAILURE_WINDOW_FAILURES =
            Setting.wholeNumber("health.failure_window.failures", 1, Integer.MAX_VALUE);
    public static final Setting<Duration> FAILURE_WINDOW_PER = Setting.positiveDuration("health.failure_window.per", null);
    public static final Setting<Duration> FAILURE_WINDOW_COOLDOWN =
            Setting.nonNegativeDuration("health.failure_window.cooldown");
    public static final Setting<Integer> MAX_CONSECUTIVE_FAILURES =
            Setting.wholeNumber("health.max_consecutive_failures", 1, Integer.MAX_VALUE);
    public static final Setting<Duration> CONSECUTIVE_FAILURES_COOLDOWN =
            Setting.nonNegativeDuration("health.consecutive_failures_cooldown");
    public static final Setting<Duration> HEALTH_BACKOFF_BASE = Setting.positiveDuration("health.backoff_base", null);
    public static final Setting<Duration> HEALTH_BACKOFF_MAX = Setting.positiveDuration("health.backoff_max", null);

    public static final Setting<Duration> CACHE_TTL = Setting.positiveDuration("cache.ttl", null);
    public static final Setting<Duration> CACHE_STALE_IF_ERROR = Setting.nonNegativeDuration("cache.stale_if_error");

    private SettingDefinitions() {
    }
}
