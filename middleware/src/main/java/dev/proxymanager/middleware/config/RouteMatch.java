package dev.proxymanager.middleware.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Which calls a limit or a cost applies to (a {@code "match"}): calls whose method is one of {@code methods} (any
 * method when empty) and whose path, without the query, matches the glob {@code path} ({@code *} = any characters,
 * {@code /} included; any path when {@code null}). Limits with the same match share one <em>route bucket</em>: one
 * log per secret, named by {@link #canonical()}, so its name is the same in every process and after a restart
 * whatever the order of the limits. Immutable and threadsafe.
 *
 * @param methods HTTP methods, upper case, sorted; empty for any
 * @param path a glob on the request path starting with {@code /}, or {@code null} for any
 */
public record RouteMatch(List<String> methods, String path) {

    /**
     * @throws ConfigException naming {@code methods[i]} or {@code path} (relative to the {@code match} object) for a
     *                         bad value, or the match itself when it names neither
     */
    public RouteMatch {
        TreeSet<String> sorted = new TreeSet<>();
        if (methods != null) {
            for (int i = 0; i < methods.size(); i++) {
                String m = methods.get(i);
                if (m == null || !m.matches("[A-Za-z]+")) {
                    throw new ConfigException("methods[" + i + "]", "must be an HTTP method like \"GET\", was "
                            + (m == null ? "null" : "\"" + m + "\""));
                }
                sorted.add(m.toUpperCase(Locale.ROOT));
            }
        }
        methods = List.copyOf(new ArrayList<>(sorted));
        if (path != null && (!path.startsWith("/") || path.indexOf('?') >= 0 || path.chars().anyMatch(
                Character::isWhitespace))) {
            throw new ConfigException("path", "must be a path glob like \"/search/*\" (starting with /, no query,"
                    + " no spaces), was \"" + path + "\"");
        }
        if (methods.isEmpty() && path == null) {
            throw new ConfigException("", "must name \"methods\", a \"path\" or both");
        }
    }

    /** Whether a call of {@code method} to {@code path} (without query; {@code null} when unknown) is matched. */
    public boolean matches(String method, String path) {
        if (!methods.isEmpty() && (method == null || !containsIgnoreCase(method))) {
            return false;
        }
        return this.path == null || (path != null && glob(this.path, path.isEmpty() ? "/" : path));
    }

    private boolean containsIgnoreCase(String method) {
        for (String m : methods) {
            if (m.equalsIgnoreCase(method)) {
                return true;
            }
        }
        return false;
    }

    /** {@code *} matches any run of characters; everything else itself. Iterative, no backtracking blow-up. */
    static boolean glob(String pattern, String text) {
        int p = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = t;
            } else if (p < pattern.length() && pattern.charAt(p) == text.charAt(t)) {
                p++;
                t++;
            } else if (star >= 0) {
                p = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    /**
     * The match written one way whatever the order or case it was given in: {@code GET,POST /search/*}, {@code *}
     * standing for any method or any path. Names the bucket (its store log) and appears in stats.
     */
    public String canonical() {
        return (methods.isEmpty() ? "*" : String.join(",", methods)) + " " + (path == null ? "*" : path);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
