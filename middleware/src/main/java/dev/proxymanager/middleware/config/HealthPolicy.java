package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How request outcomes move a secret into cooldown or out of rotation. Immutable and threadsafe.
 *
 * <ul>
 *   <li>A <em>ban</em> (a status in {@code banStatuses}, or a connection error when {@code banOnConnectionError})
 *       cools the secret down for {@code backoffBase·2^(n-1)} capped at {@code backoffMax}, plus a random jitter
 *       of up to {@code backoffBase}, where n counts consecutive bans.</li>
 *   <li>{@code failureWindowFailures} failures within {@code failureWindow} → cooldown {@code failureWindowCooldown}.</li>
 *   <li>{@code maxConsecutiveFailures} failures in a row → cooldown {@code consecutiveFailuresCooldown}.</li>
 *   <li>An upstream {@code Retry-After} cools the secret down at least that long.</li>
 *   <li>{@code banBodyPattern} (optional) found in the first 64 KiB of a response body makes it a ban too.</li>
 *   <li>With {@code removeUnhealthy}, the three rules above take the secret out of rotation instead, until restored.</li>
 * </ul>
 * What counts as a ban, a 429, a failure or a success is decided by
 * {@link dev.proxymanager.middleware.health.OutcomeClassifier} alone.
 */
public record HealthPolicy(Set<Integer> banStatuses, boolean banOnConnectionError, int failureWindowFailures,
                           Duration failureWindow, Duration failureWindowCooldown, int maxConsecutiveFailures,
                           Duration consecutiveFailuresCooldown, Duration backoffBase, Duration backoffMax,
                           boolean removeUnhealthy, BanBodyPattern banBodyPattern) {

    /** Defaults: bans on 401/403/429 and connection errors; 30 failures in 5 min → 10 min; 100 in a row → 10 min;
     * backoff 2 s doubling up to 5 min; no removal. */
    public static final HealthPolicy DEFAULT = new HealthPolicy(Set.of(401, 403, 429), true, 30, Duration.ofMinutes(5),
            Duration.ofMinutes(10), 100, Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5), false, null);

    public HealthPolicy {
        banStatuses = Set.copyOf(Objects.requireNonNull(banStatuses, "banStatuses"));
        for (int s : banStatuses) {
            if (s < 100 || s > 599) {
                throw new IllegalArgumentException("ban_statuses must be HTTP statuses 100-599, was " + s);
            }
        }
        SettingDefinitions.FAILURE_WINDOW_FAILURES.check(failureWindowFailures);
        SettingDefinitions.FAILURE_WINDOW_PER.check(failureWindow);
        SettingDefinitions.FAILURE_WINDOW_COOLDOWN.check(failureWindowCooldown);
        SettingDefinitions.MAX_CONSECUTIVE_FAILURES.check(maxConsecutiveFailures);
        SettingDefinitions.CONSECUTIVE_FAILURES_COOLDOWN.check(consecutiveFailuresCooldown);
        SettingDefinitions.HEALTH_BACKOFF_BASE.check(backoffBase);
        SettingDefinitions.HEALTH_BACKOFF_MAX.check(backoffMax);
        if (backoffMax.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException("backoff_max must be >= backoff_base (" + Durations.format(backoffBase)
                    + "), was " + Durations.format(backoffMax));
        }
    }

    /** A policy without a {@code ban_body_pattern}. */
    public HealthPolicy(Set<Integer> banStatuses, boolean banOnConnectionError, int failureWindowFailures,
                        Duration failureWindow, Duration failureWindowCooldown, int maxConsecutiveFailures,
                        Duration consecutiveFailuresCooldown, Duration backoffBase, Duration backoffMax,
                        boolean removeUnhealthy) {
        this(banStatuses, banOnConnectionError, failureWindowFailures, failureWindow, failureWindowCooldown,
                maxConsecutiveFailures, consecutiveFailuresCooldown, backoffBase, backoffMax, removeUnhealthy, null);
    }

    /** This policy with {@code ban_body_pattern} {@code pattern} ({@code null}: none). */
    public HealthPolicy withBanBodyPattern(BanBodyPattern pattern) {
        return new HealthPolicy(banStatuses, banOnConnectionError, failureWindowFailures, failureWindow,
                failureWindowCooldown, maxConsecutiveFailures, consecutiveFailuresCooldown, backoffBase, backoffMax,
                removeUnhealthy, pattern);
    }
}
