package dev.proxymanager.middleware.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IP address block written {@code 10.0.0.0/8}, {@code fd00::/8} or a single address ({@code 127.0.0.1}, a /32 or
 * /128). Parsing never resolves a name. Immutable and threadsafe.
 */
public final class CidrBlock {

    private final byte[] network;
    private final int prefixLength;
    private final String text;

    private CidrBlock(byte[] network, int prefixLength, String text) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.text = text;
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException if it is not an IP literal with an optional prefix length in range
     */
    public static CidrBlock parse(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.strip();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        if (!isIpLiteral(address)) {
            throw new IllegalArgumentException("must be an IP address or CIDR block like 10.0.0.0/8, was '" + text + "'");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress(); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("must be an IP address or CIDR block like 10.0.0.0/8, was '" + text + "'");
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("prefix length must be between 0 and " + max + ", was '" + text + "'");
            }
        }
        return new CidrBlock(mask(bytes, prefix), prefix, t);
    }

    /** Whether {@code text} is an IPv4 or IPv6 literal (brackets allowed), as opposed to a host name. */
    public static boolean isIpLiteral(String text) {
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (t.contains(":")) {
            return t.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.' || c == '%');
        }
        return t.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /** Whether {@code address} lies in this block (an IPv4 address never lies in an IPv6 block, and back). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && java.util.Arrays.equals(mask(a, prefixLength), network);
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xff << (8 - bits)));
        }
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}
