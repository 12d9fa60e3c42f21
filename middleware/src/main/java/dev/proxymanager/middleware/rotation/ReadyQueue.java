package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.PrefetchConfig;
import dev.proxymanager.middleware.lease.SecretLease;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Seed D's producer queue for one endpoint: a producer task (on a {@link PrefetchScheduler}) keeps up to
 * {@code size} secrets acquired ahead of demand, and {@link #take} hands out the most recently acquired one first
 * (last in, first out). The producer acquires through the endpoint's normal path, so each prefetched secret was
 * granted by the store under every limit, lease and cooldown, and its use and lease count from that moment.
 *
 * <p>An entry is handed out only while it is still good: younger than {@code max_age}, its lease not lapsed, and
 * nothing has happened to its secret since the grant that makes it unusable as this engine sees it (a health cooldown
 * or ban, an upstream Retry-After, a removal, changed limits, restored past uses — tracked by
 * {@link Slot#invalidations}). Bad entries are dropped: their lease is released and their use given
 * back (nothing was sent with it).
 *
 * <p>All state is guarded by the endpoint's lock, taken through {@link EndpointRotation#locked}; the producer asks the
 * store without it, one secret at a time, so callers are never held up by a refill.
 */
final class ReadyQueue {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ReadyQueue.class);
    /** A pause after an unexpected failure of the producer, so it does not spin. */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(1);

    /** A secret acquired ahead of demand, and the secret's invalidation count at the grant. */
    record Prefetched(SecretLease lease, Slot slot, int invalidations) {
    }

    private final EndpointRotation rotation;
    private final PrefetchScheduler scheduler;
    private final Clock clock;
    private final AtomicBoolean refillRequested = new AtomicBoolean();
    /** Newest first: {@link #take} pops the head, the oldest age out at the tail. */
    private final ArrayDeque<Prefetched> entries = new ArrayDeque<>();
    private PrefetchConfig config;
    private boolean closed;
    /** When the pending delayed re-check runs; {@link Long#MAX_VALUE} when none is pending. */
    private long recheckAt = Long.MAX_VALUE;

    ReadyQueue(EndpointRotation rotation, PrefetchConfig config, PrefetchScheduler scheduler, Clock clock) {
        this.rotation = rotation;
        this.config = config;
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /** Changes size and max age; a smaller queue drops its oldest entries. Under the endpoint's lock. */
    void reconfigure(PrefetchConfig newConfig, long now) {
        config = newConfig;
        while (entries.size() > newConfig.size()) {
            rotation.releaseUnused(entries.pollLast().lease(), now);
        }
    }

    /**
     * Hands out the newest good entry — entry {@code preferredId} when given and queued — or {@code null} when there
     * is none (the caller then acquires directly). Drops the bad entries it meets and asks the producer to refill.
     * Under the endpoint's lock.
     */
    SecretLease take(String preferredId, long now) {
        if (closed) {
            return null;
        }
        SecretLease found = null;
        Iterator<Prefetched> it = entries.iterator();
        while (it.hasNext()) {
            Prefetched p = it.next();
            if (!good(p, now)) {
                it.remove();
                rotation.releaseUnused(p.lease(), now);
            } else if (preferredId == null || preferredId.equals(p.lease().secretId())) {
                it.remove();
                found = p.lease();
                break;
            }
        }
        requestRefill();
        return found;
    }

    private boolean good(Prefetched p, long now) {
        Slot s = p.slot();
        return now - p.lease().acquiredAtNanos() <= config.maxAge().toNanos()
                && now < p.lease().expiresAtNanos()
                && s.invalidations == p.invalidations()
                && s.location != Slot.Location.GONE
                && s.location != Slot.Location.REMOVED;
    }

    /** Asks the producer to top the queue up; at most one request waits at a time. */
    void requestRefill() {
        if (!closed && refillRequested.compareAndSet(false, true)) {
            scheduler.execute(this::refill);
        }
    }

    /**
     * The producer's work: drops bad entries, then acquires one secret at a time until the queue is full or the
     * endpoint has none free, and schedules a re-check for when the oldest entry ages out or a secret frees up.
     */
    void refill() {
        refillRequested.set(false);
        try {
            while (refillOne()) {
                // one secret per lock hold, so callers interleave with the producer
            }
        } catch (RuntimeException e) {
            LOG.warn("prefetching for endpoint {} failed; retrying in {}", rotation.name, RETRY_AFTER_FAILURE, e);
            scheduler.schedule(this::refill, RETRY_AFTER_FAILURE);
        }
    }

    /** Returns whether to go on. */
    private boolean refillOne() {
        boolean wanted = rotation.locked(() -> {
            if (closed) {
                return false;
            }
            long now = clock.nanoTime();
            dropBad(now);
            if (entries.size() >= config.size()) {
                recheckAt(entries.peekLast().lease().acquiredAtNanos() + config.maxAge().toNanos() + 1, now);
                return false;
            }
            return true;
        });
        if (!wanted) {
            return false;
        }
        EndpointRotation.Attempt attempt = rotation.acquireAttempt(null, false);
        return rotation.locked(() -> {
            long now = clock.nanoTime();
            if (attempt.result() instanceof AcquireResult.Granted g) {
                if (closed || entries.size() >= config.size()) {
                    rotation.releaseUnused(g.lease(), now); // closed or filled meanwhile
                    return false;
                }
                entries.addFirst(new Prefetched(g.lease(), attempt.slot(), attempt.invalidations()));
                return true;
            }
            long freeAt = now + ((AcquireResult.Denied) attempt.result()).retryAfter().toNanos();
            Prefetched oldest = entries.peekLast();
            recheckAt(oldest == null ? freeAt
                    : Math.min(freeAt, oldest.lease().acquiredAtNanos() + config.maxAge().toNanos() + 1), now);
            return false;
        });
    }

    private void dropBad(long now) {
        Iterator<Prefetched> it = entries.iterator();
        while (it.hasNext()) {
            Prefetched p = it.next();
            if (!good(p, now)) {
                it.remove();
                rotation.releaseUnused(p.lease(), now);
            }
        }
    }

    /** Schedules a re-check at {@code at} unless one at or before it is pending. Under the endpoint's lock. */
    private void recheckAt(long at, long now) {
        if (recheckAt > now && recheckAt <= at) {
            return;
        }
        recheckAt = at;
        scheduler.schedule(() -> {
            rotation.locked(() -> {
                if (recheckAt == at) {
                    recheckAt = Long.MAX_VALUE;
                }
                return null;
            });
            refill();
        }, Duration.ofNanos(Math.max(0, at - now)));
    }

    /** Stops prefetching and gives back every entry (lease ended, use withdrawn). Under the endpoint's lock. */
    void close(long now) {
        closed = true;
        Prefetched p;
        while ((p = entries.pollFirst()) != null) {
            rotation.releaseUnused(p.lease(), now);
        }
    }

    /** How many entries are queued now (good or not yet found bad). Under the endpoint's lock. */
    int size() {
        return entries.size();
    }

    /** Whether the queue holds fewer entries than its size. Under the endpoint's lock. */
    boolean wantsMore() {
        return !closed && entries.size() < config.size();
    }
}
