package dev.proxymanager.middleware.quota;

/**
 * What an upstream reported about one quota of a key in one response. Immutable and threadsafe.
 *
 * @param policy the quota's name ({@code ""} when the headers name none, e.g. {@code X-RateLimit-*})
 * @param limit the quota's size, or -1 when not reported
 * @param remaining units left before the reset
 * @param resetAt when the quota resets, nanoseconds on the engine's (epoch-anchored) clock; 0 when not reported
 * @param learnedAt when the response was read, same timeline
 */
public record UpstreamQuota(String policy, long limit, long remaining, long resetAt, long learnedAt) {

    public UpstreamQuota {
        policy = policy == null ? "" : policy;
        if (remaining < 0) {
            throw new IllegalArgumentException("remaining must be >= 0, was " + remaining);
        }
    }

    /** Whether it still says something at {@code now}: its reset is known and later. */
    public boolean liveAt(long now) {
        return resetAt > now;
    }

    /** Resets this far apart are one window (a reset given in whole seconds from now moves by up to a second). */
    public static final long SAME_WINDOW_NANOS = 1_000_000_000L;

    /**
     * Whether {@code other} reports the same quota window: the same policy, resets at most
     * {@link #SAME_WINDOW_NANOS} apart.
     */
    public boolean sameWindowAs(UpstreamQuota other) {
        return policy.equals(other.policy) && Math.abs(resetAt - other.resetAt) <= SAME_WINDOW_NANOS;
    }

    /**
     * What a store keeps when {@code report} arrives while this one holds at {@code now}: within the same window
     * the fewer remaining (each is an upper bound: this one has been counted down by the grants since, the report
     * is fresher), learned at the later time; otherwise the later-learned one. Responses come back out of order, so a
     * report read later may have been counted earlier by the upstream.
     */
    public UpstreamQuota merge(UpstreamQuota report, long now) {
        if (!liveAt(now)) {
            return report;
        }
        if (sameWindowAs(report)) {
            return new UpstreamQuota(policy, report.limit >= 0 ? report.limit : limit,
                    Math.min(remaining, report.remaining), Math.max(resetAt, report.resetAt),
                    Math.max(learnedAt, report.learnedAt));
        }
        return report.learnedAt >= learnedAt ? report : this;
    }

    /**
     * The same report with {@code units} given back to {@code remaining} (a grant that sent nothing), never above
     * its {@code limit} when known.
     */
    public UpstreamQuota plus(long units) {
        long r = remaining + Math.max(0, units);
        return new UpstreamQuota(policy, limit, limit >= 0 ? Math.min(limit, r) : r, resetAt, learnedAt);
    }

    /** The same report with {@code remaining} lowered by {@code units} (never below 0). */
    public UpstreamQuota minus(long units) {
        return new UpstreamQuota(policy, limit, Math.max(0, remaining - Math.max(0, units)), resetAt, learnedAt);
    }
}
