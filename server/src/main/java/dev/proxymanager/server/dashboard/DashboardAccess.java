package dev.proxymanager.server.dashboard;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * Checks the admin token in its three forms: a {@code Authorization: Bearer} header, a {@code ?token=} query
 * parameter (the link an operator opens once), and the session cookie the dashboard sets in exchange for it.
 *
 * <p>The cookie holds an HMAC of a fixed label keyed by the token, not the token: it reveals nothing, needs no
 * server-side session (every replica sharing the token accepts it) and stops working when the token changes.
 * Comparisons are constant-time. This class is threadsafe.
 */
final class DashboardAccess {
    static final String COOKIE = "pm_dashboard";
    private static final String LABEL = "proxy-manager dashboard session v1";

    private final byte[] token;
    private final String cookieValue;

    DashboardAccess(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.cookieValue = hmac(this.token);
    }

    boolean acceptsToken(String presented) {
        return presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }

    boolean acceptsAuthorization(String header) {
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return acceptsToken(header.substring(7).strip());
    }

    boolean acceptsCookie(String presented) {
        return presented != null && MessageDigest.isEqual(cookieValue.getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.US_ASCII));
    }

    String cookieValue() {
        return cookieValue;
    }

    private static String hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(LABEL.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
