package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.health.OutcomeKind;

/**
 * The answers the proxy port makes itself, as opposed to a site's own: each has its status and the token sent in
 * {@code X-Proxy-Manager-Error}, so a client can tell "the site said 403" from "Proxy Manager refused the target".
 */
public enum ProxyRefusal {
    /** Missing or wrong proxy credentials: 407 with {@code Proxy-Authenticate}. */
    AUTHENTICATION_REQUIRED(407, "authentication_required"),
    /** The credentials name no proxy endpoint. */
    UNKNOWN_ENDPOINT(407, "unknown_endpoint"),
    /** The target is outside the endpoint's {@code allowed_targets} or resolves to a refused address. */
    TARGET_REFUSED(403, "target_refused"),
    /** The request is not a proxy request (origin-form) or is malformed. */
    BAD_REQUEST(400, "bad_request"),
    /** No upstream proxy is free for this endpoint (and site) now: 429 with {@code Retry-After}. */
    NO_PROXY_AVAILABLE(429, "no_proxy_available"),
    /** The upstream proxy failed: refused the connection, answered CONNECT with an error, reset. */
    UPSTREAM_FAILED(502, "upstream_failed"),
    /**
     * The site's TLS certificate failed verification against the trust store (intercepted or {@code https://}
     * requests).
     */
    UPSTREAM_TLS(502, "upstream_tls"),
    /** Connecting through the upstream proxy, or its answer, timed out. */
    UPSTREAM_TIMEOUT(504, "upstream_timeout"),
    /** The request body is larger than {@code max_request_bytes}. */
    REQUEST_TOO_LARGE(413, "request_too_large"),
    /** {@code X-Proxy-Manager-Cost} is not a whole number in its bounds. */
    BAD_COST(400, "bad_cost"),
    /** The request costs more than a limit that counts it allows: no proxy could ever carry it. */
    COST_TOO_LARGE(400, "cost_too_large");

    /** The header that marks the proxy's own answers. */
    public static final String ERROR_HEADER = "X-Proxy-Manager-Error";

    private final int status;
    private final String token;

    ProxyRefusal(int status, String token) {
        this.status = status;
        this.token = token;
    }

    /** The HTTP status of this answer. */
    public int status() {
        return status;
    }

    /** The value of {@code X-Proxy-Manager-Error}. */
    public String token() {
        return token;
    }

    /**
     * What this answer means for the request log's {@code outcome}: a failed or timed-out upstream proxy is a
     * connection error or a timeout; the other answers are made before any upstream attempt.
     */
    public OutcomeKind outcome() {
        return switch (this) {
            case UPSTREAM_FAILED -> OutcomeKind.CONNECTION_ERROR;
            case UPSTREAM_TIMEOUT -> OutcomeKind.TIMEOUT;
            case TARGET_REFUSED -> OutcomeKind.REFUSED;
            default -> OutcomeKind.UNUSED;
        };
    }
}
