package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in secrets.json, {@code PUT /api/v1/settings}, server.yaml and on the command line — a whole
 * number and a unit: {@code 250ms}, {@code 90s}, {@code 15m}, {@code 1h}, {@code 1d}; a bare number is refused
 * everywhere, since nothing says whether it is seconds or milliseconds — and as shown to people ({@code 60 s},
 * {@code 15 min}). This class is threadsafe.
 */
public final class Durations {

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

    /** What a duration must look like, as error messages say it. */
    static final String EXPECTED = "must be a duration like 250ms, 90s, 15m, 1h or 1d";

    private Durations() {
    }

    /**
     * Parses a duration such as {@code 90s}.
     *
     * @throws IllegalArgumentException naming the text and the expected form when it does not parse
     */
    public static Duration parse(String text) {
        Matcher m = text == null ? null : FORMAT.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException(EXPECTED + ", was \"" + text + "\"");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /**
     * The shortest written form that {@link #parse} reads back to {@code d}: {@code 5m}, {@code 301s}, {@code 250ms}.
     * Used where a message repeats a value, so every reader of a setting shows it alike.
     */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        if (ms % 86_400_000L == 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0) {
            return ms / 60_000L + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** A short human form: {@code 1 d}, {@code 2 h}, {@code 15 min}, {@code 60 s}, {@code 250 ms}. */
    public static String describe(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 86_400_000L == 0) {
            return ms / 86_400_000L + " d";
        }
        if (ms != 0 && ms % 3_600_000L == 0) {
            return ms / 3_600_000L + " h";
        }
        if (ms > 60_000L && ms % 60_000L == 0) {
            return ms / 60_000L + " min";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + " s";
        }
        return ms + " ms";
    }

    /** Rounds up to whole seconds for "next free in N s" messages and Retry-After headers; at least 1 if positive. */
    public static long ceilSeconds(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return 0;
        }
        long s = d.getSeconds();
        return d.getNano() > 0 ? s + 1 : s;
    }
}
