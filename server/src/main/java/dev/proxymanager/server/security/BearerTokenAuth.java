package dev.proxymanager.server.security;

import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;

/**
 * The one check of a configured token (the admin token, or the forwarding token), in its three forms:
 * {@code Authorization: Bearer <token>}, the token itself (a {@code ?token=} link opened once), and the browser
 * session cookie {@value #SESSION_COOKIE} given in exchange for it.
 *
 * <p>Every comparison is between SHA-256 digests with {@link MessageDigest#isEqual}, so its time depends neither on
 * how much of a guess was right nor on the guess's length. The session cookie holds an HMAC of a fixed label keyed by
 * the token, never the token: it reveals nothing, needs no server-side session (every replica sharing the token accepts
 * it) and stops working when the token changes. With no token configured every request is refused: admin APIs are
 * never open by accident. This class is threadsafe.
 */
public final class BearerTokenAuth {

    /** The browser session cookie; HttpOnly, SameSite=Strict. */
    public static final String SESSION_COOKIE = "pm_session";
    private static final String SESSION_LABEL = "proxy-manager session v1";
    private static final String PREFIX = "Bearer ";

    private final byte[] expected;
    private final String sessionCookie;
    private final byte[] expectedSession;

    /** @param token the token, or {@code null} to refuse everything */
    public BearerTokenAuth(String token) {
        this.expected = token == null ? null : digest(token);
        this.sessionCookie = token == null ? null : hmac(token);
        this.expectedSession = token == null ? null : digest(sessionCookie);
    }

    /** Whether an {@code Authorization} header value carries the token. */
    public boolean permitsAuthorization(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.length() <= PREFIX.length()
                || !authorizationHeader.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return false;
        }
        return permitsToken(authorizationHeader.substring(PREFIX.length()).strip());
    }

    /** Whether {@code token} is the token. */
    public boolean permitsToken(String token) {
        return expected != null && token != null && MessageDigest.isEqual(expected, digest(token));
    }

    /** Whether {@code request} carries the token in its Authorization header or the session cookie. */
    public boolean permits(Request request) {
        if (permitsAuthorization(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
            return true;
        }
        List<HttpCookie> cookies = Request.getCookies(request);
        if (cookies != null && expectedSession != null) {
            for (HttpCookie c : cookies) {
                if (SESSION_COOKIE.equals(c.getName()) && MessageDigest.isEqual(expectedSession, digest(c.getValue()))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The session cookie's value (not the token); {@code null} when no token is configured. */
    public String sessionCookieValue() {
        return sessionCookie;
    }

    /** Whether a token is configured at all. */
    public boolean configured() {
        return expected != null;
    }

    private static byte[] digest(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String hmac(String token) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(mac.doFinal(SESSION_LABEL.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
