package dev.proxymanager.server.proxy;

import dev.proxymanager.server.security.ForbiddenAddresses;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps the proxy port from being an open proxy: which targets the clients of each proxy endpoint may reach.
 * {@link #check} is the single entry point; it matches the host and port against the endpoint's
 * {@code allowed_targets} and then checks every address the host <em>resolves</em> to:
 * <ul>
 *   <li>link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200),
 *       the wildcard address and multicast are always refused;</li>
 *   <li>loopback and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are refused unless the
 *       endpoint lists that address or a CIDR block holding it explicitly (a host-name pattern is not enough).</li>
 * </ul>
 * A pattern is {@code *} (any public host), {@code example.com}, {@code *.example.com} (subdomains only), an IP
 * address or CIDR block, each with an optional {@code :port} ({@code *.example.com:443}); without a port any port
 * matches. Immutable and threadsafe.
 */
public final class TargetPolicy {

    /** What {@link #check} decided. */
    public sealed interface Decision permits Allowed, Refused {
    }

    /** The target may be reached; {@code address} is the first resolved address. */
    public record Allowed(InetAddress address) implements Decision {
    }

    /** The target is refused; {@code reason} names the host and why, never a secret. */
    public record Refused(String reason) implements Decision {
    }

    /** Resolves host names; the JDK resolver unless a test gives another. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private record Pattern(String host, CidrBlock block, int port) {
        boolean matchesPort(int p) {
            return port < 0 || port == p;
        }
    }

    private final Map<String, List<Pattern>> patterns;
    private final Resolver resolver;

    private TargetPolicy(Map<String, List<Pattern>> patterns, Resolver resolver) {
        this.patterns = patterns;
        this.resolver = resolver;
    }

    /**
     * A policy from {@code allowed_targets} by endpoint name.
     *
     * @throws IllegalArgumentException naming the endpoint and the bad pattern
     */
    public static TargetPolicy of(Map<String, List<String>> allowedTargets) {
        return of(allowedTargets, InetAddress::getAllByName);
    }

    /** As {@link #of(Map)}, resolving names with {@code resolver}. */
    public static TargetPolicy of(Map<String, List<String>> allowedTargets, Resolver resolver) {
        Objects.requireNonNull(allowedTargets, "allowedTargets");
        Objects.requireNonNull(resolver, "resolver");
        Map<String, List<Pattern>> parsed = new java.util.HashMap<>();
        allowedTargets.forEach((endpoint, list) -> {
            List<Pattern> ps = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                try {
                    ps.add(parse(list.get(i)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("proxy_allowed_targets." + endpoint + "[" + i + "] "
                            + e.getMessage(), e);
                }
            }
            parsed.put(endpoint, List.copyOf(ps));
        });
        return new TargetPolicy(Map.copyOf(parsed), resolver);
    }

    private static Pattern parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        int port = -1;
        String host = t;
        int colon = t.lastIndexOf(':');
        boolean bracketed = t.startsWith("[");
        if (colon > 0 && (bracketed ? t.indexOf(']') < colon : t.indexOf(':') == colon)) {
            host = t.substring(0, colon);
            try {
                port = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = 0;
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("must end in a port between 1 and 65535, was '" + text + "'");
            }
        }
        if (bracketed) {
            host = host.substring(1, host.length() - 1);
        }
        String address = host.contains("/") ? host.substring(0, host.indexOf('/')) : host;
        if (CidrBlock.isIpLiteral(address)) {
            return new Pattern(null, CidrBlock.parse(host), port);
        }
        if (host.isEmpty() || host.contains("/") || (host.contains("*") && !host.equals("*")
                && !(host.startsWith("*.") && host.indexOf('*', 1) < 0))) {
            throw new IllegalArgumentException("must be *, a host, *.domain or an IP/CIDR with an optional :port, was '"
                    + text + "'");
        }
        return new Pattern(host, null, port);
    }

    /**
     * Decides whether a client of {@code endpoint} may reach {@code host:port}. Resolves the host (a refusal when it
     * does not resolve), so the check holds for what the name points at, not only for its spelling.
     */
    public Decision check(String endpoint, String host, int port) {
        List<Pattern> allowed = patterns.getOrDefault(endpoint, List.of());
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        boolean literal = CidrBlock.isIpLiteral(h);
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(h);
        } catch (UnknownHostException e) {
            return new Refused("target " + h + " does not resolve");
        }
        boolean nameAllowed = false;
        for (Pattern p : allowed) {
            if (p.host() != null && p.matchesPort(port) && !literal && matchesName(p.host(), h)) {
                nameAllowed = true;
            }
        }
        for (InetAddress a : addresses) {
            boolean listed = false;
            for (Pattern p : allowed) {
                if (p.block() != null && p.matchesPort(port) && p.block().contains(a)) {
                    listed = true;
                }
            }
            if (ForbiddenAddresses.alwaysRefused(a)) {
                return new Refused("target " + h + " resolves to " + a.getHostAddress()
                        + ", a link-local, metadata, wildcard or multicast address");
            }
            if (ForbiddenAddresses.internal(a) && !listed) {
                return new Refused("target " + h + " resolves to " + a.getHostAddress() + ", a loopback or private"
                        + " address that endpoint " + endpoint + " does not list in allowed_targets");
            }
            if (!listed && !nameAllowed) {
                return new Refused("target " + h + ":" + port + " is not in the allowed_targets of endpoint " + endpoint);
            }
        }
        return new Allowed(addresses[0]);
    }

    private static boolean matchesName(String pattern, String host) {
        if (pattern.equals("*")) {
            return true;
        }
        if (pattern.startsWith("*.")) {
            return host.endsWith(pattern.substring(1));
        }
        return pattern.equals(host);
    }
}
