package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.config.TargetPattern;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Host names as TLS interception sees them: the normal form of a CONNECT host, and the {@code intercept_exclude}
 * patterns ({@code example.com}, {@code *.example.com} for subdomains, {@code *}, an IP address or a CIDR block),
 * matched on the name the client asked for. This class is threadsafe (immutable).
 */
final class HostName {

    private final List<TargetPattern> patterns;

    private HostName(List<TargetPattern> patterns) {
        this.patterns = patterns;
    }

    /**
     * Parses {@code patterns} with the grammar of {@code allowed_targets} (one rule for host patterns); a port, if
     * written, is not looked at.
     *
     * @param setting the setting's path, for messages
     * @throws IllegalArgumentException naming the setting and the bad pattern
     */
    static HostName patterns(String setting, List<String> patterns) {
        List<TargetPattern> parsed = new ArrayList<>();
        for (int i = 0; i < patterns.size(); i++) {
            try {
                parsed.add(TargetPattern.parse(normal(patterns.get(i))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(setting + "[" + i + "] " + e.getMessage(), e);
            }
        }
        return new HostName(List.copyOf(parsed));
    }

    boolean matches(String host) {
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
