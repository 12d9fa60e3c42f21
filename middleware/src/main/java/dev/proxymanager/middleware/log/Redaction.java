package dev.proxymanager.middleware.log;

import dev.proxymanager.middleware.config.SecretMasking;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collection;
import java.util.Set;

/**
 * Keeps secrets out of logs and documents: masks a secret to its first and last few characters and redacts
 * secret query parameters and user info from URLs.
 *
 * <p>This class is threadsafe (stateless).
 */
public final class Redaction {
    /** What replaces a redacted value. */
    public static final String REDACTED = "REDACTED";

    private Redaction() {
    }

    /**
     * A masked form of {@code secret} that identifies it without revealing it: {@code ghp_…a1b2} (up to 4 leading
     * and the 4 last characters); secrets of 12 characters or fewer show only the last 2 ({@code …b2}).
     */
    public static String mask(String secret) {
        if (secret == null || secret.isEmpty()) {
            return "…";
        }
        if (secret.length() <= 12) {
            return "…" + secret.substring(Math.max(0, secret.length() - 2));
        }
        return secret.substring(0, 4) + "…" + secret.substring(secret.length() - 4);
    }

    /**
     * {@code url} with the values of the query parameters named in {@code secretParameters} replaced by
     * {@value #REDACTED} and any user info (credentials) dropped. A URL that cannot be parsed is returned with its
     * query and user info removed entirely, since it cannot be inspected.
     */
    public static String url(String url, Collection<String> secretParameters) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            String noQuery = url.replaceAll("[?#].*$", "");
            return SecretMasking.USER_INFO.matcher(noQuery).replaceAll("//");
        }
        return url(uri, secretParameters);
    }

    /** {@link #url(String, Collection)} of a URL already parsed (the request log has it so: no second parse). */
    public static String url(URI uri, Collection<String> secretParameters) {
        Set<String> names = Set.copyOf(secretParameters);
        String query = uri.getRawQuery();
        StringBuilder sb = new StringBuilder();
        if (uri.getScheme() != null) {
            sb.append(uri.getScheme()).append(':');
        }
        if (uri.getRawAuthority() != null) {
            sb.append("//");
            if (uri.getHost() != null) {
                sb.append(uri.getHost());
                if (uri.getPort() != -1) {
                    sb.append(':').append(uri.getPort());
                }
            } else {
                sb.append(uri.getRawAuthority().replaceAll("^.*@", ""));
            }
        }
        sb.append(uri.getRawPath() == null ? "" : uri.getRawPath());
        if (query != null) {
            sb.append('?');
            String[] parts = query.split("&", -1);
            for (int i = 0; i < parts.length; i++) {
                if (i > 0) {
                    sb.append('&');
                }
                String part = parts[i];
                int eq = part.indexOf('=');
                String name = eq < 0 ? part : part.substring(0, eq);
                String decoded = decodeOrRaw(name);
                sb.append(names.contains(decoded) || names.contains(name) ? name + "=" + REDACTED : part);
            }
        }
        return sb.toString();
    }

    private static String decodeOrRaw(String name) {
        try {
            return java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return name;
        }
    }
}
