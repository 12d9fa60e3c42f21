package dev.proxymanager.server.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The span of request-log history a dashboard refresh asks for, and the width of its time buckets.
 *
 * <p>Instances are immutable. This class is threadsafe.
 *
 * @param from start, inclusive
 * @param to end, exclusive; after {@code from}
 * @param bucket width of one time bucket of the requests-over-time panel; at least one second
 */
public record HistoryRange(Instant from, Instant to, Duration bucket) {

    /** About this many buckets per chart, whatever the span. */
    static final int TARGET_BUCKETS = 60;

    public HistoryRange {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(bucket, "bucket");
        if (!to.isAfter(from)) {
            throw new IllegalArgumentException("range end must be after its start, was " + from + " to " + to);
        }
        if (bucket.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("bucket must be >= 1s, was " + bucket);
        }
    }

    /**
     * The last {@code span} up to {@code now}, in about {@value #TARGET_BUCKETS} buckets of whole seconds, with
     * bucket edges aligned to the bucket width so successive refreshes keep the same buckets.
     *
     * @throws IllegalArgumentException if {@code span} is shorter than a minute
     */
    public static HistoryRange last(Duration span, Instant now) {
        Objects.requireNonNull(span, "span");
        Objects.requireNonNull(now, "now");
        if (span.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("span must be >= 1 minute, was " + span);
        }
        long bucketSeconds = Math.max(1, span.toSeconds() / TARGET_BUCKETS);
        long bucketMillis = bucketSeconds * 1000;
        // end at the close of the bucket holding now, so the newest bucket is partial, never missing
        long end = Math.floorDiv(now.toEpochMilli(), bucketMillis) * bucketMillis + bucketMillis;
        return new HistoryRange(Instant.ofEpochMilli(end - span.toMillis()), Instant.ofEpochMilli(end),
                Duration.ofSeconds(bucketSeconds));
    }
}
