package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.UnavailableCause;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One secret's numbers at one moment. Identified by id or masked value only. Immutable and threadsafe.
 *
 * @param endpoint endpoint name
 * @param secretId id, or masked value when the secret has no id
 * @param maskedValue the value's masked form
 * @param windows uses in the current window of each limit counting every call (no {@code match}): the endpoint's
 *                first, then the secret's own
 * @param totalUses uses since the store started or the secret was added
 * @param inUse leases held now (0 when leases are off)
 * @param successes successful outcomes reported to this engine
 * @param failures failed outcomes reported to this engine
 * @param consecutiveFailures failures since the last success
 * @param cause why it cannot be handed out now, or {@link UnavailableCause#READY}
 * @param binding the window closest to binding (see {@link #closestToBinding}), or {@code null} without limits
 * @param coolingDownUntil end of the cooldown, or {@code null}
 * @param nextAvailable when it can next be handed out ({@code null} when removed)
 * @param upstream the quota the upstream last reported for it while that report holds, or {@code null}
 * @param group its quota group's name and windows (all members' uses together), or {@code null}
 * @param routes its route buckets' windows (the uses of the calls each counts), in bucket order; empty without
 */
public record SecretStats(String endpoint, String secretId, String maskedValue, List<WindowUsage> windows,
                          long totalUses, int inUse, long successes, long failures, int consecutiveFailures,
                          UnavailableCause cause, WindowUsage binding, Instant coolingDownUntil,
                          Instant nextAvailable, UpstreamQuotaView upstream, GroupUsage group,
                          List<RouteUsage> routes) {

    /** Without route buckets. */
    public SecretStats(String endpoint, String secretId, String maskedValue, List<WindowUsage> windows,
                       long totalUses, int inUse, long successes, long failures, int consecutiveFailures,
                       UnavailableCause cause, WindowUsage binding, Instant coolingDownUntil, Instant nextAvailable,
                       UpstreamQuotaView upstream, GroupUsage group) {
        this(endpoint, secretId, maskedValue, windows, totalUses, inUse, successes, failures, consecutiveFailures,
                cause, binding, coolingDownUntil, nextAvailable, upstream, group, List.of());
    }

    /**
     * A route bucket's windows: the uses of the calls its {@code match} counts, by this secret.
     *
     * @param match the bucket's match, canonical ({@code GET /search/*}; {@code *}: any method or path)
     * @param upstream what the upstream last reported for the calls of this bucket (GitHub's search quota, say) while
     *                 that report holds, or {@code null}
     */
    public record RouteUsage(String match, List<WindowUsage> windows, UpstreamQuotaView upstream) {
        public RouteUsage {
            windows = List.copyOf(windows);
        }

        /** Without an upstream report. */
        public RouteUsage(String match, List<WindowUsage> windows) {
            this(match, windows, null);
        }
    }

    /** Not in a quota group. */
    public SecretStats(String endpoint, String secretId, String maskedValue, List<WindowUsage> windows,
                       long totalUses, int inUse, long successes, long failures, int consecutiveFailures,
                       UnavailableCause cause, WindowUsage binding, Instant coolingDownUntil, Instant nextAvailable,
                       UpstreamQuotaView upstream) {
        this(endpoint, secretId, maskedValue, windows, totalUses, inUse, successes, failures, consecutiveFailures,
                cause, binding, coolingDownUntil, nextAvailable, upstream, null, List.of());
    }

    /** A quota group's windows as one member sees them: the uses of all members together. */
    public record GroupUsage(String name, List<WindowUsage> windows) {
        public GroupUsage {
            windows = List.copyOf(windows);
        }
    }

    /** Without an upstream report. */
    public SecretStats(String endpoint, String secretId, String maskedValue, List<WindowUsage> windows,
                       long totalUses, int inUse, long successes, long failures, int consecutiveFailures,
                       UnavailableCause cause, WindowUsage binding, Instant coolingDownUntil, Instant nextAvailable) {
        this(endpoint, secretId, maskedValue, windows, totalUses, inUse, successes, failures, consecutiveFailures,
                cause, binding, coolingDownUntil, nextAvailable, null, null, List.of());
    }

    /**
     * The upstream-reported quota beside our counts.
     *
     * @param policy the quota's name ({@code ""} for unnamed headers)
     * @param limit its size, -1 when not reported
     * @param remaining units left: the report less the uses granted since
     * @param resetAt when it resets
     * @param learnedAt when it was reported
     */
    public record UpstreamQuotaView(String policy, long limit, long remaining, Instant resetAt, Instant learnedAt) {
    }

    public SecretStats {
        windows = List.copyOf(windows);
        routes = routes == null ? List.of() : List.copyOf(routes);
        Objects.requireNonNull(cause, "cause");
        if (binding == null ? !windows.isEmpty() : !windows.contains(binding)) {
            throw new IllegalArgumentException("binding must be one of the windows, was " + binding);
        }
    }

    /** Uses of one limit's current window. */
    public record WindowUsage(LimitConfig limit, int uses) {
        /** Uses left in the window (0 when reached). */
        public int remaining() {
            return Math.max(0, limit.requests() - uses);
        }
    }

    /**
     * The window that binds, or will first: at a limit ({@code availability} is {@link UnavailableCause#AT_LIMIT}),
     * the one the store says frees last; otherwise the one with the fewest uses left, the fuller one on a tie
     * (26/30 per minute binds before 26/500 per 15 minutes). {@code null} when there are no windows.
     */
    public static WindowUsage closestToBinding(List<WindowUsage> windows, Availability availability) {
        if (availability.cause() == UnavailableCause.AT_LIMIT && availability.limit() < windows.size()) {
            return windows.get(availability.limit());
        }
        WindowUsage closest = null;
        for (WindowUsage w : windows) {
            if (closest == null || w.remaining() < closest.remaining() || (w.remaining() == closest.remaining()
                    // fuller: a/b > c/d  <=>  a*d > c*b, without division
                    && (long) w.uses() * closest.limit().requests() > (long) closest.uses() * w.limit().requests())) {
                closest = w;
            }
        }
        return closest;
    }
}
