package dev.proxymanager.server.proxy.tls;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Set;

/**
 * The TLS settings of the proxy port, from server.yaml: the CA that signs intercepted sites' certificates and the
 * extra CAs trusted for sites. Which endpoints intercept is theirs to say, in secrets.json ({@code intercept_tls},
 * {@code intercept_exclude}); interception is off unless an endpoint turns it on.
 *
 * <pre>
 * proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}
 * proxy_upstream_trust_store: test-sites.pem   # extra CAs trusted for sites, beside the JVM's (tests)
 * </pre>
 *
 * Immutable and threadsafe.
 *
 * @param caCert the CA certificate (PEM), or {@code null} when no endpoint intercepts
 * @param caKey the CA private key (PEM, readable by its owner only), or {@code null}
 * @param upstreamTrustStore PEM certificates trusted for sites in addition to the JVM's trust store, or {@code null}
 */
public record TlsInterceptionSettings(Path caCert, Path caKey, Path upstreamTrustStore) {

    /** The server.yaml keys read here ({@code proxy_tls_interception} only to refuse it). */
    public static final Set<String> KEYS = Set.of("proxy_tls_ca", "proxy_tls_interception", "proxy_upstream_trust_store");

    /** No CA (no interception), the JVM's trust store only. */
    public static final TlsInterceptionSettings NONE = new TlsInterceptionSettings(null, null, null);

    public TlsInterceptionSettings {
        if ((caCert == null) != (caKey == null)) {
            throw new IllegalArgumentException("proxy_tls_ca needs both cert and key");
        }
    }

    /** Whether a CA is configured, so endpoints may intercept. */
    public boolean hasCa() {
        return caCert != null;
    }

    /**
     * Checks that every endpoint with {@code intercept_tls: true} can be intercepted: a CA is configured. Run at start
     * and on every secrets reload, which is refused when it fails.
     *
     * @throws IllegalArgumentException naming the endpoint's {@code intercept_tls} and {@code proxy_tls_ca}
     */
    public void checkEndpoints(Collection<EndpointConfig> endpoints) {
        if (hasCa()) {
            return;
        }
        for (EndpointConfig e : endpoints) {
            if (e.interceptTls()) {
                throw new IllegalArgumentException("endpoints." + e.name() + ".intercept_tls is true but server.yaml"
                        + " has no proxy_tls_ca {cert, key} to sign the intercepted sites' certificates (make a CA"
                        + " with: proxy-manager-server ca generate --out DIR)");
            }
        }
    }

    /**
     * Reads the settings from server.yaml; paths are relative to its folder.
     *
     * @param file server.yaml, or {@code null} (no interception)
     * @throws ServerConfigException naming the setting at fault
     */
    public static TlsInterceptionSettings load(Path file) {
        if (file == null) {
            return NONE;
        }
        JsonNode root = ServerConfigLoader.readYaml(file);
        if (root == null || !root.isObject()) {
            return NONE;
        }
        if (root.has("proxy_tls_interception")) {
            // one source of truth: the endpoint's own entry, which a secrets reload updates
            throw new ServerConfigException("proxy_tls_interception", "moved to secrets.json: set intercept_tls and"
                    + " intercept_exclude in the proxy endpoint's entry, endpoints.<name>.intercept_tls"
                    + " (docs/forward-proxy.md); proxy_tls_ca stays here");
        }
        Path base = file.toAbsolutePath().getParent();
        Path cert = null;
        Path key = null;
        JsonNode ca = root.get("proxy_tls_ca");
        if (ca != null && !ca.isNull()) {
            if (!ca.isObject()) {
                throw new ServerConfigException("proxy_tls_ca", "must be {cert: FILE, key: FILE}, was " + ca.getNodeType());
            }
            cert = path(base, ca, "cert");
            key = path(base, ca, "key");
        }
        JsonNode trust = root.get("proxy_upstream_trust_store");
        Path trustStore = trust == null || trust.isNull() ? null : base.resolve(trust.asText());
        return new TlsInterceptionSettings(cert, key, trustStore);
    }

    private static Path path(Path base, JsonNode ca, String field) {
        JsonNode n = ca.get(field);
        if (n == null || !n.isValueNode() || n.asText().isBlank()) {
            throw new ServerConfigException("proxy_tls_ca." + field, "must name a PEM file");
        }
        return base.resolve(n.asText());
    }
}
