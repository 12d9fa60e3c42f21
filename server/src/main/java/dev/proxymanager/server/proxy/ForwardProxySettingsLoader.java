package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@link ForwardProxySettings} from the {@code proxy_*} keys of server.yaml, {@code PROXY_MANAGER_PROXY_TOKEN}
 * and {@code --proxy-port}, in that order of precedence (lowest first). This class is threadsafe.
 */
public final class ForwardProxySettingsLoader {

    /** The server.yaml keys of the proxy port. */
    public static final Set<String> KEYS = Set.of("proxy_port", "proxy_token_file", "proxy_trusted_clients",
            "proxy_default_endpoint", "proxy_allowed_targets", "proxy_session_ttl",
            // read by TlsInterceptionSettings
            "proxy_tls_ca", "proxy_tls_interception", "proxy_upstream_trust_store");


    private ForwardProxySettingsLoader() {
    }

    /**
     * @param file server.yaml, or {@code null}
     * @param env the environment
     * @param proxyPort {@code --proxy-port} as typed, or {@code null}
     * @return the settings, or {@code null} when no proxy port is configured (the listener is off)
     * @throws ServerConfigException naming the setting at fault
     */
    public static ForwardProxySettings load(Path file, Map<String, String> env, String proxyPort) {
        JsonNode root = ServerConfigLoader.readYaml(file);
        Path baseDir = file == null ? Path.of("") : file.toAbsolutePath().getParent();
        String portText = proxyPort != null ? proxyPort : text(root, "proxy_port");
        if (portText == null) {
            return null;
        }
        int port;
        try {
            port = Integer.parseInt(portText.strip());
        } catch (NumberFormatException e) {
            throw new ServerConfigException("proxy_port", "must be a whole number, was '" + portText + "'");
        }
        String token = env.get("PROXY_MANAGER_PROXY_TOKEN");
        String tokenFile = text(root, "proxy_token_file");
        if (tokenFile != null) {
            try {
                token = Files.readString(baseDir.resolve(tokenFile), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ServerConfigException("proxy_token_file", "cannot read " + tokenFile + ": " + e.getMessage(), e);
            }
        }
        token = token == null || token.isBlank() ? null : token.strip();
        List<CidrBlock> trusted = new ArrayList<>();
        List<String> trustedText = list(root.get("proxy_trusted_clients"), "proxy_trusted_clients");
        for (int i = 0; i < trustedText.size(); i++) {
            try {
                trusted.add(CidrBlock.parse(trustedText.get(i)));
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("proxy_trusted_clients[" + i + "]", e.getMessage());
            }
        }
        if (root.has("proxy_allowed_targets")) {
            // one source of truth: a second list here could silently disagree with the endpoint's own
            throw new ServerConfigException("proxy_allowed_targets", "moved to secrets.json: list the targets of each"
                    + " proxy endpoint in endpoints.<name>.allowed_targets (docs/forward-proxy.md)");
        }
        Duration ttl = ForwardProxySettings.DEFAULT_SESSION_TTL;
        String ttlText = text(root, "proxy_session_ttl");
        if (ttlText != null) {
            try {
                ttl = Durations.parse(ttlText);
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("proxy_session_ttl", e.getMessage());
            }
        }
        try {
            return new ForwardProxySettings(port, token, trusted, text(root, "proxy_default_endpoint"), ttl);
        } catch (IllegalArgumentException e) {
            String setting = e.getMessage().split("[ .\\[]", 2)[0];
            throw new ServerConfigException(setting, e.getMessage(), e);
        }
    }

    private static String text(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isValueNode()) {
            throw new ServerConfigException(key, "must be a single value, was " + n.getNodeType());
        }
        return n.asText();
    }

    private static List<String> list(JsonNode n, String key) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            throw new ServerConfigException(key, "must be a list, was " + n.getNodeType());
        }
        n.forEach(v -> out.add(v.asText()));
        return out;
    }
}
