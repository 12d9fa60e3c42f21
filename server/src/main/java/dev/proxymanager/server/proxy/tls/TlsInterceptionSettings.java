package dev.proxymanager.server.proxy.tls;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The TLS settings of the proxy port, from server.yaml. Interception is off unless an endpoint turns it on.
 *
 * <pre>
 * proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}
 * proxy_tls_interception:
 *   crawl: {intercept_tls: true, intercept_exclude: ["*.bank.example", "10.0.0.0/8"]}
 * proxy_upstream_trust_store: test-sites.pem   # extra CAs trusted for sites, beside the JVM's (tests)
 * </pre>
 *
 * Immutable and threadsafe.
 *
 * @param caCert the CA certificate (PEM), or {@code null} when no endpoint intercepts
 * @param caKey the CA private key (PEM, readable by its owner only), or {@code null}
 * @param endpoints per proxy endpoint, whether it intercepts and which hosts it never intercepts
 * @param upstreamTrustStore PEM certificates trusted for sites in addition to the JVM's trust store, or {@code null}
 */
public record TlsInterceptionSettings(Path caCert, Path caKey, Map<String, EndpointRule> endpoints,
                                      Path upstreamTrustStore) {

    /** The server.yaml keys read here. */
    public static final Set<String> KEYS = Set.of("proxy_tls_ca", "proxy_tls_interception", "proxy_upstream_trust_store");

    /** No interception, the JVM's trust store only. */
    public static final TlsInterceptionSettings NONE = new TlsInterceptionSettings(null, null, Map.of(), null);


    /**
     * One proxy endpoint's interception.
     *
     * @param interceptTls whether CONNECTs of this endpoint are intercepted; default false
     * @param exclude hosts never intercepted (tunnelled untouched): {@code host}, {@code *.domain}, {@code *}, IP or CIDR
     */
    public record EndpointRule(boolean interceptTls, List<String> exclude) {
        public EndpointRule {
            exclude = List.copyOf(Objects.requireNonNull(exclude, "exclude"));
        }
    }

    public TlsInterceptionSettings {
        endpoints = Map.copyOf(Objects.requireNonNull(endpoints, "endpoints"));
        endpoints.forEach((name, rule) -> HostName.patterns("proxy_tls_interception." + name + ".intercept_exclude",
                rule.exclude()));
        boolean anyIntercepts = endpoints.values().stream().anyMatch(EndpointRule::interceptTls);
        if (anyIntercepts && (caCert == null || caKey == null)) {
            throw new IllegalArgumentException("proxy_tls_ca needs cert and key when an endpoint has intercept_tls: true"
                    + " (make a CA with: proxy-manager-server ca generate --out DIR)");
        }
    }

    /** Whether some endpoint intercepts. */
    public boolean intercepts() {
        return endpoints.values().stream().anyMatch(EndpointRule::interceptTls);
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
        Map<String, EndpointRule> rules = new LinkedHashMap<>();
        JsonNode t = root.get("proxy_tls_interception");
        if (t != null && !t.isNull()) {
            if (!t.isObject()) {
                throw new ServerConfigException("proxy_tls_interception", "must map proxy endpoint names to"
                        + " {intercept_tls, intercept_exclude}, was " + t.getNodeType());
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = t.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String at = "proxy_tls_interception." + e.getKey();
                JsonNode n = e.getValue();
                JsonNode on = n.get("intercept_tls");
                if (on != null && !on.isBoolean()) {
                    throw new ServerConfigException(at + ".intercept_tls", "must be true or false, was '" + on.asText() + "'");
                }
                List<String> exclude = new ArrayList<>();
                JsonNode ex = n.get("intercept_exclude");
                if (ex != null && !ex.isNull()) {
                    if (!ex.isArray()) {
                        throw new ServerConfigException(at + ".intercept_exclude", "must be a list, was " + ex.getNodeType());
                    }
                    ex.forEach(v -> exclude.add(v.asText()));
                }
                rules.put(e.getKey(), new EndpointRule(on != null && on.booleanValue(), exclude));
            }
        }
        JsonNode trust = root.get("proxy_upstream_trust_store");
        Path trustStore = trust == null || trust.isNull() ? null : base.resolve(trust.asText());
        try {
            return new TlsInterceptionSettings(cert, key, rules, trustStore);
        } catch (IllegalArgumentException e) {
            // the message starts with the setting's path: "proxy_tls_ca needs ..."
            String[] settingAndRest = e.getMessage().split(" ", 2);
            throw new ServerConfigException(settingAndRest[0], settingAndRest[1], e);
        }
    }

    private static Path path(Path base, JsonNode ca, String field) {
        JsonNode n = ca.get(field);
        if (n == null || !n.isValueNode() || n.asText().isBlank()) {
            throw new ServerConfigException("proxy_tls_ca." + field, "must name a PEM file");
        }
        return base.resolve(n.asText());
    }
}
