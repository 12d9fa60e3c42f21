package dev.proxymanager.server.forward;

import java.util.List;
import java.util.Map;

/**
 * Forwards a request to an endpoint's upstream with a rotated secret: an API key injected as the endpoint says,
 * or the request routed through a proxy. The server's only dependency on the rotation library, so the library's
 * transport can be swapped without touching the routes. Implementations are threadsafe and long-lived.
 */
public interface Forwarder extends AutoCloseable {

    /**
     * Sends {@code request} (with retries on another secret as the endpoint's retry policy allows).
     *
     * @return the upstream response, or why there is none; never {@code null}
     * @throws UnknownEndpointException when the endpoint is not configured
     */
    ForwardResult forward(ForwardRequest request);

    /** Names of the endpoints this forwarder serves. */
    java.util.Set<String> endpoints();

    /** Per-secret statistics of {@code endpoint}, masked, for {@code GET /api/v1/proxies}. */
    List<Map<String, Object>> secretStats(String endpoint);

    /**
     * Per secret id of {@code endpoint}, the remaining quota its upstream last reported to this process ({@code null}
     * for none), without asking the usage store; empty by default.
     */
    default Map<String, Long> reportedRemaining(String endpoint) {
        return Map.of();
    }

    /**
     * Per target host, the secrets of {@code endpoint} that cannot serve that site now (per-site cooldowns, bans,
     * limits of the proxy port's {@code "scope": "host"}), masked as {@link #secretStats}; empty by default.
     */
    default Map<String, List<Map<String, Object>>> siteCooldowns(String endpoint) {
        return Map.of();
    }

    /** The live configuration of {@code endpoint}, for {@code GET /api/v1/settings}. */
    dev.proxymanager.middleware.config.EndpointConfig endpointConfig(String endpoint);

    /**
     * Replaces an endpoint's rotation, limits, timeouts and retry settings live; usage counts, leases and health are
     * kept for secrets that remain.
     */
    void updateEndpoint(dev.proxymanager.middleware.config.EndpointConfig config);

    /**
     * Replaces every endpoint and secret (secrets.json reloaded): new secrets join the rotation at once, removed
     * ones leave it; those that remain keep their usage counts, leases and health.
     */
    void replaceSecrets(dev.proxymanager.middleware.config.SecretsConfig config);

    /** Health of the backing stores (usage store, Elasticsearch), by name: "up", "degraded" or "down". */
    Map<String, String> storeStates();

    /** Releases connections and flushes usage and logs. */
    @Override
    void close();

    /** Thrown when a request names an endpoint that is not configured; the message lists the known ones. */
    final class UnknownEndpointException extends RuntimeException {
        public UnknownEndpointException(String message) {
            super(message);
        }
    }
}
