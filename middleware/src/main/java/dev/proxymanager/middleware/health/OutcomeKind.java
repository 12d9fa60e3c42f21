package dev.proxymanager.middleware.health;

/**
 * What an attempt's {@link Outcome} means, as {@link OutcomeClassifier} decides it once for every caller: the health
 * rules, the retry decision, the server's circuit breaker, the request log, metrics and the dashboard. Each kind has
 * a stable {@link #wireName()}: the request log's {@code outcome} field, the metrics' {@code outcome} tag and the
 * dashboard's outcome chart use it, so it never changes once shipped.
 */
public enum OutcomeKind {
    /** A 1xx–3xx answer. */
    SUCCESS("success"),
    /** A 4xx answer that is neither a ban nor a 429: the request is at fault, not the secret or the upstream. */
    CLIENT_ERROR("client_error"),
    /** A status in {@code ban_statuses}, or a connection error when {@code ban_on_connection_error} is on. */
    BANNED("banned"),
    /**
     * A 429 that means "limit reached" (the secret was at its window's limit, or the 429 carries Retry-After; see
     * {@link OutcomeClassifier#limitReached}), or any 429 that {@code ban_statuses} leaves out: the upstream throttles
     * this secret for a while.
     */
    RATE_LIMITED("rate_limited"),
    /** A 5xx answer that {@code ban_statuses} leaves out. */
    SERVER_ERROR("failure"),
    /** Connect or read timed out. */
    TIMEOUT("timeout"),
    /** The connection failed (refused, reset, TLS, proxy error) and it does not count as a ban. */
    CONNECTION_ERROR("error"),
    /** The secret was handed out but no request was made with it. */
    UNUSED("unused"),
    /**
     * The target was refused before a connection was made (not one of the endpoint's origins, or an address no
     * endpoint may reach): the caller chose it, so it says nothing of the secret or the upstream.
     */
    REFUSED("refused");

    private final String wireName;

    OutcomeKind(String wireName) {
        this.wireName = wireName;
    }

    /** The value written to request logs, metrics and the dashboard, e.g. {@code rate_limited}. */
    public String wireName() {
        return wireName;
    }

    /**
     * Whether the secret's health counts it as a failure: a ban, a 429, a 5xx, a timeout or a connection error.
     * Any other answer, a 4xx included, shows the secret works and counts as a success (see {@link HealthRules}).
     */
    public boolean secretFailure() {
        return switch (this) {
            case BANNED, RATE_LIMITED, SERVER_ERROR, TIMEOUT, CONNECTION_ERROR -> true;
            case SUCCESS, CLIENT_ERROR, UNUSED, REFUSED -> false;
        };
    }

    /** Whether another secret may do better: bans, 429s, timeouts and connection errors are retried on another one. */
    public boolean retryableOnAnotherSecret() {
        return switch (this) {
            case BANNED, RATE_LIMITED, TIMEOUT, CONNECTION_ERROR -> true;
            case SUCCESS, CLIENT_ERROR, SERVER_ERROR, UNUSED, REFUSED -> false;
        };
    }

    /**
     * Whether the upstream itself looks down, which is what a circuit breaker counts: a 5xx, a timeout or a
     * connection error. Bans and 429s are about one secret and do not open the breaker.
     */
    public boolean upstreamFailure() {
        return switch (this) {
            case SERVER_ERROR, TIMEOUT, CONNECTION_ERROR -> true;
            case SUCCESS, CLIENT_ERROR, BANNED, RATE_LIMITED, UNUSED, REFUSED -> false;
        };
    }
}
