package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.SecretMasking;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.hc.core5.http.HttpHost;

/**
 * A proxy secret parsed from its configured form {@code http://[user:password@]host:port}: where to connect and,
 * optionally, the credentials the proxy asks for. {@link #toString()} never shows the password.
 *
 * <p>Instances are immutable. This class is threadsafe.
 *
 * @param host the proxy's host and port (scheme {@code http})
 * @param user the proxy user, or null when the proxy needs no credentials
 * @param password the proxy password, or null
 */
public record ProxyAddress(HttpHost host, String user, String password) {

    /** The port used when the proxy URL gives none. */
    public static final int DEFAULT_PORT = 8080;

    public ProxyAddress {
        Objects.requireNonNull(host, "host");
    }

    /**
     * Parses a proxy secret value.
     *
     * @throws IllegalArgumentException if {@code value} is not an {@code http://host:port} URL; the message shows
     *                                  the value masked
     */
    public static ProxyAddress parse(String value) {
        Objects.requireNonNull(value, "value");
        String v = value.contains("://") ? value : "http://" + value;
        URI uri;
        try {
            uri = new URI(v);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("proxy must be a URL like http://host:port, was "
                    + SecretMasking.maskUri(value));
        }
        if (uri.getHost() == null || !"http".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("proxy must be a URL like http://host:port, was "
                    + SecretMasking.maskUri(value));
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? "" : decode(info.substring(colon + 1));
        }
        int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
        return new ProxyAddress(new HttpHost("http", uri.getHost(), port), user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** True when the proxy expects credentials. */
    public boolean hasCredentials() {
        return user != null;
    }

    @Override
    public String toString() {
        return "ProxyAddress[" + host.toURI() + (user == null ? "" : ", user=" + SecretMasking.mask(user)) + "]";
    }
}
