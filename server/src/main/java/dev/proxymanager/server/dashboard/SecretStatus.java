package dev.proxymanager.server.dashboard;

import java.time.Duration;
import java.util.Objects;

/**
 * One secret's live state, as the rotation engine reports it to the dashboard.
 *
 * <p>{@code secretId} is the secret's configured id or its masked form — never its value: the dashboard shows it
 * as given. Instances are immutable. This class is threadsafe.
 *
 * @param endpoint the endpoint name from secrets.json
 * @param secretId the secret's id or masked form (e.g. {@code key-3} or {@code ghp_…9f2a})
 * @param state where the secret stands now
 * @param usesInWindow requests counted against the secret in its current window; {@code >= 0}
 * @param limit requests allowed per window; {@code > 0}
 * @param window the limit's window; positive
 */
public record SecretStatus(String endpoint, String secretId, SecretState state, long usesInWindow, long limit,
                           Duration window) {

    public SecretStatus {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(window, "window");
        if (usesInWindow < 0) {
            throw new IllegalArgumentException("usesInWindow must be >= 0, was " + usesInWindow);
        }
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be > 0, was " + limit);
        }
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be > 0, was " + window);
        }
    }
}
