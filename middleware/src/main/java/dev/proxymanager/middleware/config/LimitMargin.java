package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guard band of an endpoint's limits ({@code limit_margin}): a use frees its slot in a window of length {@code w}
 * only at {@code use + w + margin}, so a request granted at a window's edge still arrives after the edge by the
 * upstream's clock despite the delay between grant and arrival. Either a fixed duration ({@code "50ms"}) or a
 * percentage of each window ({@code "2%"}). Default {@link #DEFAULT}. Immutable and threadsafe.
 *
 * @param fixed the margin when it is a duration; {@link Duration#ZERO} when it is a percentage
 * @param percent the margin as a percentage of each window; 0 when it is a duration
 */
public record LimitMargin(Duration fixed, double percent) {

    /**
     * Default 100 ms: above the p99.9 of the delay between a use's record and its request's write measured with
     * three processes at full load on a loaded 2-core machine, and the smallest margin measured that kept the
     * upstream's count at zero violations there (docs/benchmarks.md, "Limits at the upstream").
     */
    public static final LimitMargin DEFAULT = new LimitMargin(Duration.ofMillis(100), 0);
    /** No guard band: a use frees its slot exactly one window later. */
    public static final LimitMargin NONE = new LimitMargin(Duration.ZERO, 0);

    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3})?)\\s*%");

    public LimitMargin {
        Objects.requireNonNull(fixed, "fixed");
        if (fixed.isNegative()) {
            throw new IllegalArgumentException("limit_margin must be >= 0, was " + fixed);
        }
        if (!(percent >= 0 && percent <= 100)) {
            throw new IllegalArgumentException("limit_margin must be a percentage in 0..100, was " + percent + "%");
        }
        if (percent > 0 && !fixed.isZero()) {
            throw new IllegalArgumentException("limit_margin is either a duration or a percentage, not both");
        }
    }

    /**
     * Parses {@code "50ms"}, {@code "1s"} or {@code "2%"}.
     *
     * @throws IllegalArgumentException naming the text and the expected forms when it does not parse
     */
    public static LimitMargin parse(String text) {
        Matcher m = text == null ? null : PERCENT.matcher(text.trim());
        if (m != null && m.matches()) {
            return new LimitMargin(Duration.ZERO, Double.parseDouble(m.group(1)));
        }
        try {
            return new LimitMargin(Durations.parse(text), 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be a duration like 50ms or a percentage of each window like 2%");
        }
    }

    /** The margin added to a window of {@code perNanos}, in nanoseconds. */
    public long nanosFor(long perNanos) {
        if (percent > 0) {
            return (long) Math.ceil(perNanos * (percent / 100));
        }
        return fixed.toNanos();
    }

    /** As written in secrets.json: {@code 50ms} or {@code 2%}. */
    public String describe() {
        if (percent > 0) {
            return (percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent)) + "%";
        }
        return fixed.toMillis() + "ms";
    }
}
