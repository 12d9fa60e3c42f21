package dev.proxymanager.middleware.quota;

import java.util.List;

/**
 * The quota signals of one response: every quota it reported and how many quota header values were malformed
 * (ignored). Immutable and threadsafe.
 */
public record QuotaReading(List<UpstreamQuota> quotas, int malformed) {

    /** No signal, nothing malformed. */
    public static final QuotaReading NONE = new QuotaReading(List.of(), 0);

    public QuotaReading {
        quotas = List.copyOf(quotas);
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
