package dev.proxymanager.middleware.config;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Masked forms of secret values, for ids, logs and messages: {@code ghp_…a1b2} for keys, and URLs with their
 * credentials hidden ({@code http://…@127.0.0.1:8888}). This class is threadsafe.
 */
public final class SecretMasking {

    /**
     * The user info ({@code user:password@}) of a URL, with the {@code //} before it, found as text: for URLs that
     * {@link URI} cannot parse, which must still be shown or logged without their credentials.
     */
    public static final Pattern USER_INFO = Pattern.compile("//[^/@]*@");

    private SecretMasking() {
    }

    /**
     * The masked form of a key or proxy URL. A URL keeps scheme, host and port and loses its user info; a key keeps
     * its first four and last four characters when at least 12 long, only its last two when 8–11, nothing when shorter.
     */
    public static String mask(String value) {
        if (value == null) {
            return "null";
        }
        if (value.contains("://")) {
            return maskUri(value);
        }
        int n = value.length();
        if (n >= 12) {
            return value.substring(0, 4) + "…" + value.substring(n - 4);
        }
        if (n >= 8) {
            return "…" + value.substring(n - 2);
        }
        return "…";
    }

    /** A URL without its user info (and without query or fragment, which may carry keys). */
    public static String maskUri(String value) {
        try {
            URI u = URI.create(value);
            if (u.getHost() == null) {
                return "…";
            }
            return u.getScheme() + "://" + (u.getRawUserInfo() != null ? "…@" : "") + u.getHost()
                    + (u.getPort() >= 0 ? ":" + u.getPort() : "")
                    + (u.getRawPath() == null ? "" : u.getRawPath());
        } catch (IllegalArgumentException e) {
            return "…";
        }
    }
}
