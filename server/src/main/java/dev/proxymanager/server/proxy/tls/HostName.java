package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.config.CidrBlock;

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

    private final List<String> names;
    private final List<CidrBlock> blocks;

    private HostName(List<String> names, List<CidrBlock> blocks) {
        this.names = names;
        this.blocks = blocks;
    }

    /**
     * @param setting the setting's path, for messages
     * @throws IllegalArgumentException naming the setting and the bad pattern
     */
    static HostName patterns(String setting, List<String> patterns) {
        List<String> names = new ArrayList<>();
        List<CidrBlock> blocks = new ArrayList<>();
        for (int i = 0; i < patterns.size(); i++) {
            String p = normal(patterns.get(i));
            String address = p.contains("/") ? p.substring(0, p.indexOf('/')) : p;
            if (CidrBlock.isIpLiteral(address)) {
                blocks.add(CidrBlock.parse(p));
            } else if (p.isEmpty() || p.contains("/") || p.contains(":") || (p.contains("*") && !p.equals("*")
                    && !(p.startsWith("*.") && p.indexOf('*', 1) < 0))) {
                throw new IllegalArgumentException(setting + "[" + i + "] must be *, a host, *.domain or an IP/CIDR,"
                        + " was '" + patterns.get(i) + "'");
            } else {
                names.add(p);
            }
        }
        return new HostName(List.copyOf(names), List.copyOf(blocks));
    }

    boolean matches(String host) {
        String h = normal(host);
        if (isIpLiteral(h)) {
            try {
                InetAddress a = InetAddress.getByName(h); // a literal: no lookup
                return blocks.stream().anyMatch(b -> b.contains(a)) || names.contains("*");
            } catch (UnknownHostException e) {
                return false;
            }
        }
        for (String n : names) {
            if (n.equals("*") || n.equals(h) || (n.startsWith("*.") && h.endsWith(n.substring(1)))) {
                return true;
            }
        }
        return false;
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
