package dev.proxymanager.server.security;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.transport.ConnectGuard;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Keeps the server from becoming an open proxy (SSRF): the one place that decides where a forwarded request may go.
 * <ul>
 *   <li>{@link #check} runs before a secret is picked: the target must be http(s), carry no user info, and be one of
 *       the endpoint's <em>origins</em> (scheme + host + port).</li>
 *   <li>As the transport's {@link ConnectGuard} it runs inside HttpClient: the same origin rule on every request it
 *       sends (redirects included), and the address rule on every address it is about to connect to, after its own
 *       DNS lookup, so a name whose answer changes between the two (DNS rebinding) cannot pass.</li>
 * </ul>
 * Origins: {@code base_url}'s origin always; an {@code allowed_hosts} entry {@code host:port} allows that port,
 * {@code host:*} any port, a bare {@code host} {@code base_url}'s port when it is {@code base_url}'s host, else the
 * scheme's default port (80, 443); {@code *.example.com} matches subdomains. Addresses: never link-local,
 * cloud-metadata, wildcard or multicast; loopback only when the host is written as an address or {@code localhost}
 * (a DNS name answering loopback is the rebinding trick). This class is threadsafe.
 */
public final class TargetGuard implements ConnectGuard {

    /** Why a target was refused; {@code null} from {@link #check} means allowed. */
    public record Refusal(String reason) {
    }

    /**
     * Checks {@code target} against {@code endpoint}'s origins, without a DNS lookup (addresses are checked when
     * HttpClient connects).
     *
     * @return {@code null} when the target may be called, else the refusal naming the origin (never a secret)
     */
    public Refusal check(URI target, EndpointConfig endpoint) {
        String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return new Refusal("only http and https targets are forwarded, was scheme '" + scheme + "'");
        }
        if (target.getRawUserInfo() != null) {
            return new Refusal("targets with user info are not forwarded");
        }
        String host = target.getHost();
        if (host == null || host.isEmpty()) {
            return new Refusal("target has no host");
        }
        String reason = refusesOrigin(endpoint, scheme, host, target.getPort() < 0 ? defaultPort(scheme) : target.getPort());
        if (reason == null && writtenAsAddressOrLocalhost(host) && !host.equalsIgnoreCase("localhost")) {
            try {
                reason = refusesAddress(host, InetAddress.getByName(host)); // a literal: no lookup
            } catch (UnknownHostException e) {
                reason = "target host " + host + " is not a valid address";
            }
        }
        return reason == null ? null : new Refusal(reason);
    }

    @Override
    public String refusesOrigin(EndpointConfig endpoint, String scheme, String host, int port) {
        String s = scheme.toLowerCase(Locale.ROOT);
        String h = unbracket(host.toLowerCase(Locale.ROOT));
        if (!s.equals("http") && !s.equals("https")) {
            return "only http and https targets are forwarded, was scheme '" + s + "'";
        }
        URI base = endpoint.baseUrl();
        String baseHost = base == null || base.getHost() == null ? null : unbracket(base.getHost().toLowerCase(Locale.ROOT));
        String baseScheme = base == null || base.getScheme() == null ? null : base.getScheme().toLowerCase(Locale.ROOT);
        if (h.equals(baseHost) && s.equals(baseScheme) && port == effectivePort(base)) {
            return null;
        }
        for (String entry : endpoint.allowedHosts()) {
            String e = entry.toLowerCase(Locale.ROOT);
            String entryHost = unbracket(EndpointConfig.hostOf(e));
            if (!hostMatches(entryHost, h)) {
                continue;
            }
            String entryPort = portOf(e);
            if (entryPort == null) {
                // a bare host: base_url's origin for base_url's host, else the scheme's standard port
                if (!entryHost.equals(baseHost) && port == defaultPort(s)) {
                    return null;
                }
            } else if (entryPort.equals("*") || entryPort.equals(Integer.toString(port))) {
                return null;
            }
        }
        return "origin " + s + "://" + (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + port
                + " is not allowed for endpoint '" + endpoint.name() + "'; allowed: " + describe(endpoint);
    }

    @Override
    public String refusesAddress(String host, InetAddress address) {
        if (ForbiddenAddresses.alwaysRefused(address)) {
            return "host " + host + " resolves to " + address.getHostAddress()
                    + ", a link-local, metadata, wildcard or multicast address";
        }
        if (address.isLoopbackAddress() && !writtenAsAddressOrLocalhost(host)) {
            return "host " + host + " resolves to the loopback address " + address.getHostAddress()
                    + "; name loopback targets by address or localhost";
        }
        return null;
    }

    private static String describe(EndpointConfig endpoint) {
        StringBuilder b = new StringBuilder();
        if (endpoint.baseUrl() != null) {
            URI u = endpoint.baseUrl();
            b.append(u.getScheme()).append("://").append(u.getHost()).append(':').append(effectivePort(u));
        }
        for (String entry : endpoint.allowedHosts()) {
            b.append(b.isEmpty() ? "" : ", ").append(entry);
        }
        return b.toString();
    }

    private static boolean hostMatches(String entryHost, String host) {
        return entryHost.equals(host) || (entryHost.startsWith("*.") && host.endsWith(entryHost.substring(1)));
    }

    /** The port named by an allowed_hosts entry ({@code "*"} for any), or {@code null} for a bare host. */
    private static String portOf(String entry) {
        int colon;
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            colon = close >= 0 && entry.length() > close + 1 && entry.charAt(close + 1) == ':' ? close + 1 : -1;
        } else {
            colon = entry.indexOf(':');
            if (colon >= 0 && entry.indexOf(':', colon + 1) >= 0) {
                colon = -1; // a bare IPv6 address
            }
        }
        return colon < 0 ? null : entry.substring(colon + 1);
    }

    private static int effectivePort(URI u) {
        return u.getPort() >= 0 ? u.getPort() : defaultPort(u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT));
    }

    private static int defaultPort(String scheme) {
        return scheme.equals("https") ? 443 : 80;
    }

    private static String unbracket(String h) {
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private static boolean writtenAsAddressOrLocalhost(String host) {
        String h = unbracket(host.toLowerCase(Locale.ROOT));
        return h.equals("localhost") || h.indexOf(':') >= 0 || h.matches("[0-9.]+");
    }
}
