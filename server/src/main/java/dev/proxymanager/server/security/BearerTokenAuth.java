package dev.proxymanager.server.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks {@code Authorization: Bearer <token>} against the configured admin token in constant time (so response
 * timing does not reveal how much of a guess was right). With no token configured every request is refused: admin
 * APIs are never open by accident. This class is threadsafe.
 */
public final class BearerTokenAuth {

    private final byte[] expected;

    /** @param token the admin token, or {@code null} to refuse everything */
    public BearerTokenAuth(String token) {
        this.expected = token == null ? null : digest(token);
    }

    /** Whether an {@code Authorization} header value carries the admin token. */
    public boolean permits(String authorizationHeader) {
        if (expected == null || authorizationHeader == null) {
            return false;
        }
        String prefix = "Bearer ";
        if (authorizationHeader.length() <= prefix.length()
                || !authorizationHeader.regionMatches(true, 0, prefix, 0, prefix.length())) {
            return false;
        }
        // comparing digests keeps the comparison constant-time even when lengths differ
        return MessageDigest.isEqual(expected, digest(authorizationHeader.substring(prefix.length()).strip()));
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
}
