package dev.proxymanager.middleware.lease;

import java.util.Arrays;

/**
 * The leases currently held on one secret, each with an expiry so a caller that dies without releasing frees the
 * secret when its TTL passes. Small and allocation-free in the common case. This class is <em>not</em> threadsafe;
 * the usage store guards it.
 */
public final class LeaseTable {

    private String[] ids = new String[2];
    private long[] expiries = new long[2];
    private int count;

    /** Holders whose lease has not expired at {@code now}; expired leases are dropped. */
    public int holders(long now) {
        for (int i = count - 1; i >= 0; i--) {
            if (expiries[i] <= now) {
                removeAt(i);
            }
        }
        return count;
    }

    /** Adds a lease until {@code expiresAt}. */
    public void add(String leaseId, long expiresAt) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
            expiries = Arrays.copyOf(expiries, count * 2);
        }
        ids[count] = leaseId;
        expiries[count] = expiresAt;
        count++;
    }

    /** Drops lease {@code leaseId}; returns whether it was held (false when it expired or never existed). */
    public boolean remove(String leaseId) {
        for (int i = 0; i < count; i++) {
            if (ids[i].equals(leaseId)) {
                removeAt(i);
                return true;
            }
        }
        return false;
    }

    /** The earliest expiry among held leases, or {@link Long#MAX_VALUE} when none is held. */
    public long earliestExpiry() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < count; i++) {
            min = Math.min(min, expiries[i]);
        }
        return min;
    }

    private void removeAt(int i) {
        count--;
        ids[i] = ids[count];
        expiries[i] = expiries[count];
        ids[count] = null;
    }
}
