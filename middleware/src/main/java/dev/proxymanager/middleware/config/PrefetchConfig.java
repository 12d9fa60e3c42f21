package dev.proxymanager.middleware.config;

import java.time.Duration;

/**
 * An endpoint's ready queue (seed D's producer queue): a background producer keeps up to {@code size} secrets
 * acquired ahead of demand, and {@code acquire} hands out the most recently acquired one first. A prefetched secret
 * counts as a use — in every sliding window, toward usage caps, and as a lease — from the moment it is prefetched,
 * so limits hold exactly; one that waits longer than {@code maxAge} is dropped (its use given back:
 * nothing was sent with it) and replaced.
 * Default: {@link #OFF}. Immutable and threadsafe.
 *
 * @param size how many secrets to keep prefetched; 0 turns the queue off
 * @param maxAge how long a prefetched secret may wait before it is handed out (default 1 s): the upstream sees a
 *               request at most this much later than the use is counted. Must be shorter than the lease TTL when
 *               the endpoint leases secrets, so a handed-out lease is still held.
 */
public record PrefetchConfig(int size, Duration maxAge) {

    /** Default {@code max_age}: 1 s. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(1);
    /** No ready queue: every acquire selects and records a use on the caller's thread. */
    public static final PrefetchConfig OFF = new PrefetchConfig(0, DEFAULT_MAX_AGE);
    /** The largest {@code size}: a queue holds leases other callers cannot get, so it is meant to be small. */
    public static final int MAX_SIZE = 1024;

    public PrefetchConfig {
        SettingDefinitions.PREFETCH_SIZE.check(size);
        SettingDefinitions.PREFETCH_MAX_AGE.check(maxAge);
    }

    /** {@code size} secrets, each handed out within {@link #DEFAULT_MAX_AGE}. */
    public static PrefetchConfig of(int size) {
        return new PrefetchConfig(size, DEFAULT_MAX_AGE);
    }

    /** Whether the endpoint has a ready queue. */
    public boolean enabled() {
        return size > 0;
    }
}
