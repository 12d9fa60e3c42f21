package dev.proxymanager.middleware.quota;

import java.util.List;

/**
 * The quota signals of one response: every quota it reported, how many quota header values were malformed
 * (ignored), and the units the call cost when the response says ({@code cost_header}). Immutable and threadsafe.
 *
 * @param cost units the call cost by its response, or -1 when not reported
 */
public record QuotaReading(List<UpstreamQuota> quotas, int malformed, long cost) {

    /** No signal, nothing malformed. */
    public static final QuotaReading NONE = new QuotaReading(List.of(), 0, -1);

    public QuotaReading {
        quotas = List.copyOf(quotas);
        if (cost < -1) {
            throw new IllegalArgumentException("cost must be >= 0, or -1 when not reported; was " + cost);
        }
    }

    /** Without a reported cost. */
    public QuotaReading(List<UpstreamQuota> quotas, int malformed) {
        this(quotas, malformed, -1);
    }

    /**
     * This reading with the cost {@link QuotaHeaders#cost} read: a cost when {@code cost >= 0}, nothing when -1,
     * one more malformed value when {@link QuotaHeaders#MALFORMED_COST}.
     */
    public QuotaReading withCost(long cost) {
        if (cost == -1) {
            return this;
        }
        if (cost == QuotaHeaders.MALFORMED_COST) {
            return new QuotaReading(quotas, malformed + 1, this.cost);
        }
        return new QuotaReading(quotas, malformed, cost);
    }

    /**
     * The quota that binds first: among those with a known reset, an exhausted one (the latest reset among them),
     * else the one with the fewest units left; {@code null} when no quota has a reset.
     */
    public UpstreamQuota binding() {
        UpstreamQuota best = null;
        for (UpstreamQuota q : quotas) {
            if (q.resetAt() == 0) {
                continue; // without a reset it cannot say until when
            }
            if (best == null || q.remaining() < best.remaining()
                    || (q.remaining() == best.remaining() && q.resetAt() > best.resetAt())) {
                best = q;
            }
        }
        return best;
    }
}
