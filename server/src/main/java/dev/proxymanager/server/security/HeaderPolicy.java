package dev.proxymanager.server.security;

import java.util.Locale;
import java.util.Set;

/**
 * Which headers cross the proxy: hop-by-hop headers (RFC 9110 §7.6.1) and those the server sets itself are dropped
 * both ways; values with CR or LF are refused (header injection). This class is threadsafe.
 */
public final class HeaderPolicy {

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade");
    /** Request headers the server derives itself. */
    private static final Set<String> REQUEST_DROPPED = Set.of("host", "content-length", "expect");

    private HeaderPolicy() {
    }

    /** Whether a header of the client's request goes upstream; {@code Authorization} goes unless it was our token. */
    public static boolean forwardsRequestHeader(String name, boolean authorizationWasOurToken) {
        String n = name.toLowerCase(Locale.ROOT);
        if (HOP_BY_HOP.contains(n) || REQUEST_DROPPED.contains(n) || n.startsWith("x-proxy-manager-")) {
            return false;
        }
        return !(authorizationWasOurToken && n.equals("authorization"));
    }

    /** Whether an upstream response header goes back to the client. */
    public static boolean forwardsResponseHeader(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        // Date is set by this server; a second one would make the response ambiguous
        return !HOP_BY_HOP.contains(n) && !n.equals("content-length") && !n.equals("x-cache") && !n.equals("date")
                && !n.startsWith("x-proxy-manager-");
    }

    /** Whether a header value carries CR, LF or NUL, which could split headers. */
    public static boolean hasLineBreak(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                return true;
            }
        }
        return false;
    }
}
