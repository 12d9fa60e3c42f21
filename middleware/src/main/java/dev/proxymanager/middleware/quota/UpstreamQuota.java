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

    /** The same report with {@code remaining} lowered by {@code units} (never below 0). */
    public UpstreamQuota minus(long units) {
        return new UpstreamQuota(policy, limit, Math.max(0, remaining - Math.max(0, units)), resetAt, learnedAt);
    }
}
