package dev.proxymanager.server.security;

import dev.proxymanager.middleware.config.CidrBlock;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * The one rule for which addresses the server may connect to on a client's behalf, used by the forwarding routes'
 * {@link TargetGuard} and by the proxy port's target policy alike. This class is threadsafe (stateless).
 */
public final class ForbiddenAddresses {

    /** Never reached, even when listed: link-local (cloud metadata), metadata addresses, "this network". */
    private static final List<CidrBlock> ALWAYS_REFUSED = List.of(CidrBlock.parse("169.254.0.0/16"),
            CidrBlock.parse("fe80::/10"), CidrBlock.parse("fd00:ec2::254"), CidrBlock.parse("100.100.100.200"),
            CidrBlock.parse("0.0.0.0/8"));
    /** Reached only when an endpoint lists them: loopback and private ranges. */
    private static final List<CidrBlock> INTERNAL = List.of(CidrBlock.parse("127.0.0.0/8"), CidrBlock.parse("::1"),
            CidrBlock.parse("10.0.0.0/8"), CidrBlock.parse("172.16.0.0/12"), CidrBlock.parse("192.168.0.0/16"),
            CidrBlock.parse("100.64.0.0/10"), CidrBlock.parse("fc00::/7"));

    private ForbiddenAddresses() {
    }

    /** Link-local, metadata, wildcard, multicast or 0.0.0.0/8 (IPv4-mapped IPv6 judged as the IPv4 it reaches). */
    public static boolean alwaysRefused(InetAddress a) {
        InetAddress v = unmapped(a);
        return v.isAnyLocalAddress() || v.isMulticastAddress() || v.isLinkLocalAddress()
                || ALWAYS_REFUSED.stream().anyMatch(b -> b.contains(v));
    }

    /** Loopback or a private range (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). */
    public static boolean internal(InetAddress a) {
        InetAddress v = unmapped(a);
        return INTERNAL.stream().anyMatch(b -> b.contains(v));
    }

    /** ::ffff:a.b.c.d is a.b.c.d: judge it as the IPv4 address it reaches. */
    static InetAddress unmapped(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet6Address && b.length == 16) {
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return a;
                }
            }
            if ((b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    return a;
                }
            }
        }
        return a;
    }
}
