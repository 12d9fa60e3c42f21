package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Who a proxy client is: the endpoint and session named by {@code Proxy-Authorization: Basic} (user name
 * {@code <endpoint>} or {@code <endpoint>,session=<id>}, password the proxy token), or, for a client from a trusted
 * CIDR that sends no credentials, the default endpoint. {@link #identify} is the one place this is decided.
 * This class is threadsafe.
 */
public final class ProxyClient {

    /** The outcome of {@link #identify}. */
    public sealed interface Identity permits Known, Unknown {
    }

    /**
     * An authenticated (or trusted) client.
     *
     * @param endpoint the proxy endpoint to use
     * @param session the session id, or {@code null}
     */
    public record Known(String endpoint, String session) implements Identity {
    }

    /** Missing or wrong credentials: answer 407. {@code reason} never holds the token. */
    public record Unknown(String reason) implements Identity {
    }

    private final byte[] token;
    private final List<CidrBlock> trusted;
    private final String defaultEndpoint;

    public ProxyClient(ForwardProxySettings settings) {
        Objects.requireNonNull(settings, "settings");
        this.token = settings.token() == null ? null : settings.token().getBytes(StandardCharsets.UTF_8);
        this.trusted = settings.trustedClients();
        this.defaultEndpoint = settings.defaultEndpoint();
    }

    /**
     * Identifies a client.
     *
     * @param proxyAuthorization the {@code Proxy-Authorization} header, or {@code null}
     * @param client the client's address
     */
    public Identity identify(String proxyAuthorization, InetAddress client) {
        if (proxyAuthorization == null || proxyAuthorization.isBlank()) {
            if (client != null && trusted.stream().anyMatch(b -> b.contains(client))) {
                return new Known(defaultEndpoint, null);
            }
            return new Unknown("proxy credentials required");
        }
        String v = proxyAuthorization.strip();
        if (v.length() < 6 || !v.substring(0, 6).equalsIgnoreCase("basic ")) {
            return new Unknown("only Basic proxy credentials are accepted");
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(v.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Unknown("malformed Basic proxy credentials");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return new Unknown("malformed Basic proxy credentials");
        }
        String user = decoded.substring(0, colon);
        byte[] password = decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        if (token == null || !MessageDigest.isEqual(token, password)) {
            return new Unknown("wrong proxy token");
        }
        String endpoint = user;
        String session = null;
        int comma = user.indexOf(',');
        if (comma >= 0) {
            endpoint = user.substring(0, comma);
            String rest = user.substring(comma + 1);
            if (!rest.startsWith("session=") || rest.length() == "session=".length()) {
                return new Unknown("user name must be <endpoint> or <endpoint>,session=<id>");
            }
            session = rest.substring("session=".length());
        }
        if (endpoint.isEmpty()) {
            return new Unknown("user name must name a proxy endpoint");
        }
        return new Known(endpoint, session);
    }
}
