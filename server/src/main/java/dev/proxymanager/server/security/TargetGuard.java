package dev.proxymanager.server.security;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * Keeps the server from becoming an open proxy (SSRF): a target must be http(s), carry no user info, name a host the
 * endpoint allows, and resolve to no link-local, cloud-metadata, wildcard or multicast address. Loopback and private
 * addresses stay allowed when an endpoint lists them explicitly (the demo upstream lives on loopback).
 * This class is threadsafe.
 */
public final class TargetGuard {

    /** Why a target was refused; {@code null} from {@link #check} means allowed. */
    public record Refusal(String reason) {
    }

    /**
     * Checks {@code target} against {@code allowedHosts}.
     *
     * @return {@code null} when the target may be called, else the refusal naming the host (never a secret)
     */
    public Refusal check(URI target, List<String> allowedHosts) {
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
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        boolean allowed = false;
        for (String a : allowedHosts) {
            String p = a.toLowerCase(Locale.ROOT);
            if (p.equals(h) || (p.startsWith("*.") && h.endsWith(p.substring(1)))) {
                allowed = true;
                break;
            }
        }
        if (!allowed) {
            return new Refusal("host " + h + " is not allowed for this endpoint; allowed hosts: " + allowedHosts);
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(h);
        } catch (UnknownHostException e) {
            return null; // the upstream call fails with a clear 502; nothing to protect
        }
        for (InetAddress address : addresses) {
            if (forbidden(address)) {
                return new Refusal("host " + h + " resolves to " + address.getHostAddress()
                        + ", a link-local, metadata, wildcard or multicast address");
            }
        }
        return null;
    }

    private static boolean forbidden(InetAddress a) {
        if (a.isLinkLocalAddress() || a.isAnyLocalAddress() || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet6Address) {
            // fd00:ec2::254 (AWS metadata over IPv6)
            return (b[0] & 0xff) == 0xfd && (b[1] & 0xff) == 0x00 && (b[2] & 0xff) == 0x0e && (b[3] & 0xff) == 0xc2;
        }
        // 100.100.100.200 (Alibaba metadata); 169.254.0.0/16 is link-local above
        return (b[0] & 0xff) == 100 && (b[1] & 0xff) == 100 && (b[2] & 0xff) == 100 && (b[3] & 0xff) == 200;
    }
}
