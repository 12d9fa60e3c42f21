package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The settings of the forward-proxy listener, from server.yaml ({@code proxy_port}, {@code proxy_token_file},
 * {@code proxy_trusted_clients}, {@code proxy_default_endpoint}, {@code proxy_session_ttl}), the environment ({@code PROXY_MANAGER_PROXY_TOKEN}) and {@code --proxy-port}.
 * The listener is off unless a port is set. Which targets each proxy endpoint may reach is the endpoint's
 * {@code allowed_targets} in secrets.json, not a setting of the listener. Immutable and threadsafe.
 *
 * @param port the port to listen on (0 = a free one)
 * @param token the proxy access token clients send as the Basic password; {@code null}: only trusted clients
 * @param trustedClients client address blocks that may connect without credentials; default none
 * @param defaultEndpoint the proxy endpoint of trusted clients that send no credentials, or {@code null}
 * @param sessionTtl how long an idle session keeps its upstream proxy; default 10 min
 */
public record ForwardProxySettings(int port, String token, List<CidrBlock> trustedClients, String defaultEndpoint,
                                   Duration sessionTtl) {

    /** Default {@code proxy_session_ttl}: 10 minutes. */
    public static final Duration DEFAULT_SESSION_TTL = Duration.ofMinutes(10);
    /** Shortest proxy token accepted: 16 characters. */
    public static final int MIN_TOKEN_LENGTH = 16;

    /** The demo's proxy port: 8888. */
    public static final int DEMO_PORT = 8888;

    public ForwardProxySettings {
        Objects.requireNonNull(trustedClients, "trustedClients");
        Objects.requireNonNull(sessionTtl, "sessionTtl");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("proxy_port must be between 0 and 65535, was " + port);
        }
        if (token != null && token.length() < MIN_TOKEN_LENGTH) {
            throw new IllegalArgumentException("proxy_token_file must hold at least " + MIN_TOKEN_LENGTH
                    + " characters, was " + token.length() + " characters");
        }
        if (token == null && trustedClients.isEmpty()) {
            throw new IllegalArgumentException("proxy_port needs a proxy token (proxy_token_file or"
                    + " PROXY_MANAGER_PROXY_TOKEN) or proxy_trusted_clients; otherwise no client could use it");
        }
        if (!trustedClients.isEmpty() && defaultEndpoint == null) {
            throw new IllegalArgumentException("proxy_trusted_clients needs proxy_default_endpoint: the endpoint"
                    + " of clients that send no credentials");
        }
        if (sessionTtl.isNegative() || sessionTtl.isZero()) {
            throw new IllegalArgumentException("proxy_session_ttl must be > 0, was " + sessionTtl);
        }
        trustedClients = List.copyOf(trustedClients);
    }

    /**
     * The embedded demo's settings: a generated token (the demo secrets.json lets its proxy endpoint reach 127.0.0.1,
     * where the demo site lives, and nothing else).
     */
    public static ForwardProxySettings demo(int port) {
        byte[] bytes = new byte[18];
        new java.security.SecureRandom().nextBytes(bytes);
        String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        return new ForwardProxySettings(port, token, List.of(), null, DEFAULT_SESSION_TTL);
    }

    @Override
    public String toString() {
        // the token stays out of logs
        return "ForwardProxySettings[port=" + port + ", token=" + (token == null ? "unset" : "set") + ", trustedClients="
                + trustedClients + ", defaultEndpoint=" + defaultEndpoint
                + ", sessionTtl=" + sessionTtl + "]";
    }
}
