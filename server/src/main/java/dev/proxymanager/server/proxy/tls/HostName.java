package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.config.TargetPattern;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * Host names as TLS interception sees them: the normal form of a CONNECT host, and the match of an endpoint's
 * {@code intercept_exclude} patterns ({@code example.com}, {@code *.example.com} for subdomains, {@code *}, an IP
 * address or a CIDR block) on the name the client asked for. This class is threadsafe (stateless).
 */
final class HostName {

    private HostName() {
    }

    /**
     * Whether {@code host} (as the client asked for it) matches one of {@code patterns} (the grammar of
     * {@code allowed_targets}, one rule for host patterns); a port, if written, is not looked at.
     */
    static boolean matchesAny(List<TargetPattern> patterns, String host) {
        String h = normal(host);
        if (isIpLiteral(h)) {
            try {
                InetAddress a = InetAddress.getByName(h); // a literal: no lookup
                return patterns.stream().anyMatch(p -> p.block() != null ? p.block().contains(a) : "*".equals(p.host()));
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return patterns.stream().anyMatch(p -> p.matchesName(h));
    }

    /** Lower case, without IPv6 brackets or a trailing dot. */
    static String normal(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    static boolean isIpLiteral(String host) {
        return CidrBlock.isIpLiteral(normal(host));
    }
}
