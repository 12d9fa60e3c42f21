package dev.proxymanager.middleware.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One entry of a proxy endpoint's {@code allowed_targets}: {@code *} (any public host), {@code example.com},
 * {@code *.example.com} (subdomains only), an IP address or a CIDR block, each with an optional {@code :port}
 * ({@code *.example.com:443}); without a port any port matches. Which addresses a pattern may reach (loopback and
 * private ones only when listed as an address, link-local and metadata never) is the server's {@code TargetPolicy}.
 * Immutable and threadsafe.
 *
 * @param host the lower-case host pattern, or {@code null} for an address pattern
 * @param block the address block, or {@code null} for a host pattern
 * @param port the port, or -1 for any
 * @param text the pattern as written
 */
public record TargetPattern(String host, CidrBlock block, int port, String text) {

    public TargetPattern {
        Objects.requireNonNull(text, "text");
        if ((host == null) == (block == null)) {
            throw new IllegalArgumentException("a target pattern is either a host or an address block, was '" + text + "'");
        }
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming the bad pattern
     */
    public static TargetPattern parse(String text) {
        Objects.requireNonNull(text, "text");
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
            return new TargetPattern(null, CidrBlock.parse(host), port, text);
        }
        if (host.isEmpty() || host.contains("/") || (host.contains("*") && !host.equals("*")
                && !(host.startsWith("*.") && host.indexOf('*', 1) < 0))) {
            throw new IllegalArgumentException("must be *, a host, *.domain or an IP/CIDR with an optional :port, was '"
                    + text + "'");
        }
        return new TargetPattern(host, null, port, text);
    }

    /** Whether {@code p} is this pattern's port (any, when it names none). */
    public boolean matchesPort(int p) {
        return port < 0 || port == p;
    }

    /** Whether the lower-case host name {@code name} matches this host pattern ({@code false} for address patterns). */
    public boolean matchesName(String name) {
        if (host == null) {
            return false;
        }
        if (host.equals("*")) {
            return true;
        }
        if (host.startsWith("*.")) {
            return name.endsWith(host.substring(1));
        }
        return host.equals(name);
    }

    @Override
    public String toString() {
        return text;
    }
}
