package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.UnavailableCause;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One secret's live state, as the rotation engine reports it to the dashboard.
 *
 * <p>{@code secretId} is the secret's configured id or its masked form — never its value: the dashboard shows it
 * as given. Instances are immutable. This class is threadsafe.
 *
 * @param endpoint the endpoint name from secrets.json
 * @param secretId the secret's id or masked form (e.g. {@code key-3} or {@code ghp_…9f2a})
 * @param cause why it cannot be handed out now, or {@link UnavailableCause#READY}
 * @param usesInWindow requests counted against the secret in the window closest to binding (without a limit: all
 *                     its uses); {@code >= 0}
 * @param limit requests allowed in that window; {@code > 0}, or {@code 0} when the secret has no limit
 * @param window the limit's window; positive, or {@code null} exactly when {@code limit} is 0
 * @param upstream the quota the upstream last reported for it while that report holds, or {@code null}
 * @param routes per route bucket of the secret (limits with a {@code match}), its window closest to binding; empty
 *               without buckets
 */
public record SecretStatus(String endpoint, String secretId, UnavailableCause cause, long usesInWindow, long limit,
                           Duration window, SecretStats.UpstreamQuotaView upstream, List<RouteWindow> routes) {

    /**
     * A route bucket's window closest to binding: {@code uses} of {@code limit} per {@code window} by the calls
     * {@code match} counts.
     *
     * @param match the bucket's canonical match ({@code GET /search/*})
     * @param upstream what the upstream last reported for the bucket's calls while it holds, or {@code null}
     */
    public record RouteWindow(String match, long uses, long limit, Duration window,
                              SecretStats.UpstreamQuotaView upstream) {
        public RouteWindow {
            Objects.requireNonNull(match, "match");
            Objects.requireNonNull(window, "window");
        }

        /** Without an upstream report. */
        public RouteWindow(String match, long uses, long limit, Duration window) {
            this(match, uses, limit, window, null);
        }
    }

    /** Without route buckets. */
    public SecretStatus(String endpoint, String secretId, UnavailableCause cause, long usesInWindow, long limit,
                        Duration window, SecretStats.UpstreamQuotaView upstream) {
        this(endpoint, secretId, cause, usesInWindow, limit, window, upstream, List.of());
    }

    /** Without an upstream report. */
    public SecretStatus(String endpoint, String secretId, UnavailableCause cause, long usesInWindow, long limit,
                        Duration window) {
        this(endpoint, secretId, cause, usesInWindow, limit, window, null);
    }

    public SecretStatus {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(cause, "cause");
        routes = routes == null ? List.of() : List.copyOf(routes);
        if (usesInWindow < 0) {
            throw new IllegalArgumentException("usesInWindow must be >= 0, was " + usesInWindow);
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0 (0: no limit), was " + limit);
        }
        if (limit == 0 ? window != null : window == null || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be > 0 with a limit and absent without one, was "
                    + window + " with limit " + limit);
        }
    }

    /** A secret without a limit: {@code uses} so far. */
    public static SecretStatus unlimited(String endpoint, String secretId, UnavailableCause cause, long uses) {
        return new SecretStatus(endpoint, secretId, cause, uses, 0, null);
    }

    /** Whether a limit applies. */
    public boolean limited() {
        return limit > 0;
    }
}
