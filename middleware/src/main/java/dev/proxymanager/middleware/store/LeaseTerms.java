package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.config.EndpointConfig;

/**
 * How many holders a secret admits at once and how long a lease lives. {@code maxHolders} is
 * {@link Integer#MAX_VALUE} when leases are off, in which case no lease is recorded. Immutable and threadsafe.
 */
public record LeaseTerms(int maxHolders, long ttlNanos) {

    /** No leases: any number of concurrent users. */
    public static final LeaseTerms NONE = new LeaseTerms(Integer.MAX_VALUE, Long.MAX_VALUE);

    public LeaseTerms {
        if (maxHolders <= 0 || ttlNanos <= 0) {
            throw new IllegalArgumentException("maxHolders and ttl must be > 0, were " + maxHolders + ", " + ttlNanos);
        }
    }

    /** The terms of an endpoint's {@code lease}, {@code max_holders} and {@code lease_ttl}. */
    public static LeaseTerms of(EndpointConfig e) {
        int max = e.effectiveMaxHolders();
        return max == Integer.MAX_VALUE ? NONE : new LeaseTerms(max, e.leaseTtl().toNanos());
    }

    /** Whether leases are recorded at all. */
    public boolean leased() {
        return maxHolders != Integer.MAX_VALUE;
    }
}
