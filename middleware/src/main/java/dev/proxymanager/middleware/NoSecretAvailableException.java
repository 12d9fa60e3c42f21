package dev.proxymanager.middleware;

import java.time.Duration;
import java.util.Objects;

/**
 * No secret of an endpoint could be used within the bounded wait: all are at their limits, cooling down, leased or
 * removed. Carries the engine's reason and how long until one frees up (for a {@code Retry-After}).
 */
public class NoSecretAvailableException extends RuntimeException {

    private final String endpoint;
    private final String reason;
    private final Duration retryAfter;

    /** @param retryAfter when a secret should free up, from now */
    public NoSecretAvailableException(String endpoint, String reason, Duration retryAfter) {
        super("no secret of endpoint '" + endpoint + "' is available: " + reason + " (retry after "
                + retryAfter.toMillis() + " ms)");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public String endpoint() {
        return endpoint;
    }

    /** Why none is available, from the rotation engine. */
    public String reason() {
        return reason;
    }

    /** How long until a secret should be available. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
