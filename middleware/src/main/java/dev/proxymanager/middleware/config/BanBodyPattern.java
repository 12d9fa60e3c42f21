package dev.proxymanager.middleware.config;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The health policy's {@code ban_body_pattern}: a regular expression that, found in the first
 * {@link #SCAN_LIMIT} bytes of a response body, makes the answer a ban whatever its status — a captcha or block page
 * served with {@code 200}. The body is scanned as transferred (a gzip-encoded body is not decoded). Equal when the
 * expressions are. Immutable and threadsafe.
 */
public final class BanBodyPattern {

    /** How much of a body is scanned: the first 64 KiB. */
    public static final int SCAN_LIMIT = 64 * 1024;

    private final Pattern pattern;

    private BanBodyPattern(Pattern pattern) {
        this.pattern = pattern;
    }

    /**
     * Compiles {@code regex} (Java syntax).
     *
     * @throws IllegalArgumentException when it is empty or not a valid expression, with the reason
     */
    public static BanBodyPattern compile(String regex) {
        Objects.requireNonNull(regex, "regex");
        if (regex.isEmpty()) {
            throw new IllegalArgumentException("must not be empty");
        }
        try {
            return new BanBodyPattern(Pattern.compile(regex));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("must be a valid regular expression ("
                    + e.getDescription() + " at index " + e.getIndex() + "), was \"" + regex + "\"");
        }
    }

    /** Whether the expression occurs in {@code bodyPrefix} (at most {@link #SCAN_LIMIT} bytes' worth of text). */
    public boolean foundIn(CharSequence bodyPrefix) {
        return pattern.matcher(bodyPrefix).find();
    }

    /** The expression as written. */
    public String regex() {
        return pattern.pattern();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BanBodyPattern b && b.regex().equals(regex());
    }

    @Override
    public int hashCode() {
        return regex().hashCode();
    }

    @Override
    public String toString() {
        return regex();
    }
}
