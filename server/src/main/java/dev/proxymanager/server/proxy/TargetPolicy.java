package dev.proxymanager.server.proxy;

import dev.proxymanager.server.security.ForbiddenAddresses;
import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.TargetPattern;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Keeps the proxy port from being an open proxy: which targets the clients of each proxy endpoint may reach.
 * {@link #check} is the single entry point; it matches the host and port against the endpoint's
 * {@code allowed_targets} (secrets.json, {@link TargetPattern}) and then checks every address the host <em>resolves</em> to:
 * <ul>
 *   <li>link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200),
 *       the wildcard address and multicast are always refused;</li>
 *   <li>loopback and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are refused unless the
 *       endpoint lists that address or a CIDR block holding it explicitly (a host-name pattern is not enough).</li>
 * </ul>
 * Immutable and threadsafe.
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

    private final Resolver resolver;

    private TargetPolicy(Resolver resolver) {
        this.resolver = resolver;
    }

    /** A policy resolving names with the JDK resolver. */
    public static TargetPolicy system() {
        return new TargetPolicy(InetAddress::getAllByName);
    }

    /** A policy resolving names with {@code resolver}. */
    public static TargetPolicy of(Resolver resolver) {
        return new TargetPolicy(Objects.requireNonNull(resolver, "resolver"));
    }

    /**
     * Decides whether a client of {@code endpoint} may reach {@code host:port}. Resolves the host (a refusal when it
     * does not resolve), so the check holds for what the name points at, not only for its spelling.
     */
    public Decision check(EndpointConfig endpoint, String host, int port) {
        List<TargetPattern> allowed = endpoint.allowedTargets();
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
        for (TargetPattern p : allowed) {
            if (p.host() != null && p.matchesPort(port) && !literal && p.matchesName(h)) {
                nameAllowed = true;
            }
        }
        for (InetAddress a : addresses) {
            boolean listed = false;
            for (TargetPattern p : allowed) {
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
                        + " address that endpoint " + endpoint.name() + " does not list in allowed_targets");
            }
            if (!listed && !nameAllowed) {
                return new Refused("target " + h + ":" + port + " is not in the allowed_targets of endpoint " + endpoint.name());
            }
        }
        return new Allowed(addresses[0]);
    }
}
