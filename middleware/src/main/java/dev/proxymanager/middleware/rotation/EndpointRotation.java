package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.HealthRules;
import dev.proxymanager.middleware.health.HealthVerdict;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One endpoint's rotation: ready secrets in a {@link Selector}, blocked ones in a heap by when they free up, and the
 * store as the authority on counts, leases and cooldowns. All state is guarded by {@link #lock}.
 */
final class EndpointRotation {

    /** Denied with every secret removed: a suggestion for clients, since removal has no end. */
    static final Duration REMOVED_RETRY_AFTER = Duration.ofSeconds(60);
    /** Denied because a fail-closed store is down: a short suggestion, stores usually come back quickly. */
    static final Duration STORE_RETRY_AFTER = Duration.ofSeconds(5);
    /**
     * How soon a secret leased by another process (a shared store) is asked for again: its holder's release is not
     * seen here, and waiting for the lease's end (its TTL, 60 s by default) would starve this process of it.
     */
    static final long LEASED_ELSEWHERE_RECHECK_NANOS = Duration.ofMillis(25).toNanos();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EndpointRotation.class);

    private record Wait(long at, Slot slot, int gen) {
    }

    final String name;
    final ReentrantLock lock = new ReentrantLock();
    private final Clock clock;
    private final UsageStore store;
    private final SplittableRandom random;
    private final String leasePrefix;
    private final java.util.function.Consumer<List<SecretStateEvent>> sink;
    private final boolean failOpen;
    private long leaseCounter;

    private EndpointConfig config;
    private LeaseTerms terms;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private Selector selector;
    private final PriorityQueue<Wait> waiting = new PriorityQueue<>((a, b) -> Long.compare(a.at, b.at));
    private StoreCandidate[] candidateBuffer = new StoreCandidate[16];
    private final Slot[] picked = new Slot[16];
    /** State changes found under the lock, fired after it is released. */
    private List<SecretStateEvent> pendingEvents;
    private final java.util.function.Supplier<PrefetchScheduler> prefetchScheduler;
    /** The producer queue when the endpoint prefetches; {@code null} otherwise. */
    private ReadyQueue readyQueue;

    EndpointRotation(EndpointConfig config, Clock clock, UsageStore store, SplittableRandom random, String leasePrefix,
                     java.util.function.Consumer<List<SecretStateEvent>> sink, boolean failOpen,
                     java.util.function.Supplier<PrefetchScheduler> prefetchScheduler) {
        this.name = config.name();
        this.prefetchScheduler = prefetchScheduler;
        this.failOpen = failOpen;
        this.sink = sink;
        this.clock = clock;
        this.store = store;
        this.random = random;
        this.leasePrefix = leasePrefix + name + "-";
        lock.lock(); // the producer may start at once and must see the whole setup
        try {
            reconfigure(config, new ArrayList<>());
        } finally {
            lock.unlock();
        }
    }

    EndpointConfig config() {
        return config;
    }

    /** Replaces secrets, limits and rotation settings; remaining secrets keep their counts and health. */
    void reconfigure(EndpointConfig newConfig, List<SecretStateEvent> events) {
        if (!newConfig.name().equals(name)) {
            throw new IllegalArgumentException("endpoint name must stay " + name + ", was " + newConfig.name());
        }
        long minRank = selector instanceof Selector.LeastUsed lu ? lu.minRank() : 0;
        Map<String, SecretConfig> incoming = new LinkedHashMap<>();
        for (SecretConfig s : newConfig.secrets()) {
            incoming.put(s.id(), s);
        }
        for (Slot old : new ArrayList<>(slots.values())) {
            if (!incoming.containsKey(old.id)) {
                old.location = Slot.Location.GONE;
                slots.remove(old.id);
                store.forget(name, old.id);
            }
        }
        Map<String, Slot> ordered = new LinkedHashMap<>();
        for (SecretConfig s : incoming.values()) {
            Slot slot = slots.get(s.id());
            if (slot == null) {
                slot = new Slot(s, newConfig.limits(), newConfig.limitMargin(),
                        newConfig.health().failureWindowFailures());
                slot.rank = minRank;
            } else {
                StoreCandidate before = slot.candidate;
                slot.update(s, newConfig.limits(), newConfig.limitMargin());
                if (!before.equals(slot.candidate)) {
                    slot.invalidations++; // a use prefetched under the old limits may be over the new ones
                }
                slot.health.resizeWindow(newConfig.health().failureWindowFailures());
            }
            ordered.put(s.id(), slot);
        }
        slots.clear();
        slots.putAll(ordered);
        config = newConfig;
        terms = LeaseTerms.of(newConfig);
        // Rebuild the local view; the store re-checks each secret on its next acquire, so nothing is lost.
        selector = Selector.of(newConfig, random);
        waiting.clear();
        for (Slot s : slots.values()) {
            s.readyGen++;
            s.waitGen++;
            s.readyIndex = -1;
            if (s.location == Slot.Location.REMOVED) {
                continue;
            }
            s.location = Slot.Location.READY;
            selector.add(s);
        }
        reconfigureReadyQueue(newConfig);
    }

    AcquireResult acquire() {
        return acquire(null);
    }

    /**
     * As {@link #acquire()}, but tries {@code preferredId} first when it is ready (sticky sessions). With a ready
     * queue, hands out its newest good entry (entry {@code preferredId} when queued) and acquires directly only
     * when it has none.
     */
    AcquireResult acquire(String preferredId) {
        List<SecretStateEvent> events;
        lock.lock();
        try {
            long now = clock.nanoTime(); // read under the lock: uses reach the store in time order
            if (readyQueue != null) {
                SecretLease prefetched = readyQueue.take(preferredId, now);
                if (prefetched != null) {
                    return new AcquireResult.Granted(prefetched);
                }
            }
            return acquireLocked(preferredId, now);
        } finally {
            events = takePendingEvents();
            lock.unlock();
            fire(events);
        }
    }

    /** Selects and asks the store, as of {@code now}. Under the lock; events go to {@link #pendingEvents}. */
    AcquireResult acquireLocked(String preferredId, long now) {
        promote(now);
        int batch = 1;
        Slot preferred = preferredId == null ? null : slots.get(preferredId);
        while (true) {
            int k = 0;
            Slot s;
            if (preferred != null) {
                if (preferred.location == Slot.Location.READY) {
                    selector.remove(preferred);
                    preferred.location = Slot.Location.ELSEWHERE;
                    picked[0] = preferred;
                    candidateBuffer[0] = preferred.candidate;
                    k = 1;
                }
                preferred = null; // one try: if the store refuses it, the rotation method picks
            }
            while (k < batch && (s = selector.poll(now)) != null) {
                s.location = Slot.Location.ELSEWHERE;
                picked[k] = s;
                candidateBuffer[k] = s.candidate;
                k++;
            }
            if (k == 0) {
                return denied(now);
            }
            String leaseId = leasePrefix + (++leaseCounter);
            StoreDecision d;
            try {
                d = store.acquire(name, candidateBuffer, k, terms, leaseId, now);
            } catch (RuntimeException e) {
                return storeFailed(e, k, leaseId, now);
            }
            List<Availability> examined = d.examined();
            if (d.isGranted()) {
                picked[d.granted()].rank++; // before placing it, so least-used orders it by its new count
            }
            for (int i = 0; i < examined.size(); i++) {
                place(picked[i], examined.get(i), now);
            }
            for (int i = k - 1; i >= examined.size(); i--) {
                picked[i].location = Slot.Location.READY;
                selector.putBack(picked[i]);
            }
            if (d.isGranted()) {
                Slot g = picked[d.granted()];
                if (d.capCooldownUntil() > 0) {
                    addEvent(new SecretStateEvent(name, g.id, SecretStateEvent.Kind.COOLDOWN,
                            Clock.toInstant(now), Clock.toInstant(d.capCooldownUntil()),
                            "usage cap reached (" + capDescription(g, now) + ")"));
                }
                long expires = terms.leased() ? now + terms.ttlNanos() : Long.MAX_VALUE;
                java.util.Arrays.fill(picked, 0, k, null);
                return new AcquireResult.Granted(new SecretLease(name, config.type(), g.id, g.maskedValue,
                        g.value, leaseId, now, expires));
            }
            java.util.Arrays.fill(picked, 0, k, null);
            batch = Math.min(batch * 4, picked.length); // our view was stale (another process?): widen
        }
    }

    private void addEvent(SecretStateEvent e) {
        if (pendingEvents == null) {
            pendingEvents = new ArrayList<>(2);
        }
        pendingEvents.add(e);
    }

    /** Takes the events gathered under the lock; call before unlocking, fire after. */
    List<SecretStateEvent> takePendingEvents() {
        List<SecretStateEvent> e = pendingEvents;
        pendingEvents = null;
        return e;
    }

    /** Tells listeners, outside the lock. */
    void fire(List<SecretStateEvent> events) {
        if (events != null) {
            sink.accept(events);
        }
    }

    /**
     * The store failed. Fail-open (seed C: service over strictness) hands out the preferred candidate unchecked;
     * fail-closed denies. Either way the candidates go back to the ready set.
     */
    private AcquireResult storeFailed(RuntimeException e, int k, String leaseId, long now) {
        Slot first = picked[0];
        for (int i = k - 1; i >= 0; i--) {
            picked[i].location = Slot.Location.READY;
            selector.putBack(picked[i]);
        }
        java.util.Arrays.fill(picked, 0, k, null);
        // put the chosen one at the back so the next caller gets another secret
        if (failOpen) {
            selector.remove(first);
            selector.add(first);
            first.rank++;
            LOG.warn("usage store failed for endpoint {}; fail-open: using {} without limit checks", name, first.id, e);
            return new AcquireResult.Granted(new SecretLease(name, config.type(), first.id, first.maskedValue,
                    first.value, leaseId, now, Long.MAX_VALUE));
        }
        LOG.warn("usage store failed for endpoint {}; fail-closed: denying", name, e);
        return new AcquireResult.Denied(name, AcquireResult.Cause.STORE_UNAVAILABLE, "the usage store of '" + name
                + "' is unavailable (" + e.getClass().getSimpleName() + "); fail-closed", STORE_RETRY_AFTER);
    }

    private String capDescription(Slot g, long now) {
        for (LimitConfig l : g.limits) {
            if (l.hasCooldown()) {
                return l.describe() + ", cooldown " + Durations.describe(l.cooldown());
            }
        }
        return "limit";
    }

    /** Puts a slot where its availability says: ready, waiting until a time, or removed. */
    private void place(Slot s, Availability a, long now) {
        if (s.location == Slot.Location.GONE) {
            return;
        }
        long freeAt = a.freeAt();
        if (a.cause() == Availability.LEASED && store.sharedAcrossProcesses()) {
            // held by another process, whose release this one does not see: the lease's end is only the latest
            freeAt = Math.min(freeAt, now + LEASED_ELSEWHERE_RECHECK_NANOS);
        }
        if (a.cause() == Availability.REMOVED || a.cause() == Availability.COOLDOWN) {
            s.invalidations++; // a prefetched use of it must not be handed out now
        }
        if (s.location == Slot.Location.READY) {
            selector.remove(s);
        }
        if (s.location == Slot.Location.WAITING && a.cause() != Availability.REMOVED && freeAt == s.waitUntil
                && freeAt > now) {
            s.blockCause = a.cause();
            return; // already waiting for exactly this time: no duplicate heap entry
        }
        s.waitGen++;
        if (a.cause() == Availability.REMOVED) {
            s.location = Slot.Location.REMOVED;
        } else if (freeAt <= now) {
            s.location = Slot.Location.READY;
            selector.add(s);
        } else {
            s.location = Slot.Location.WAITING;
            s.blockCause = a.cause();
            s.waitUntil = freeAt;
            waiting.add(new Wait(freeAt, s, s.waitGen));
        }
    }

    private void promote(long now) {
        Wait w;
        while ((w = waiting.peek()) != null && w.at <= now) {
            waiting.poll();
            if (w.slot.waitGen == w.gen && w.slot.location == Slot.Location.WAITING) {
                w.slot.location = Slot.Location.READY;
                selector.add(w.slot);
            }
        }
    }

    private AcquireResult denied(long now) {
        Wait w;
        while ((w = waiting.peek()) != null && (w.slot.waitGen != w.gen || w.slot.location != Slot.Location.WAITING)) {
            waiting.poll();
        }
        String what = "all " + config.type().plural() + " of '" + name + "'";
        if (w == null) {
            return new AcquireResult.Denied(name, AcquireResult.Cause.ALL_REMOVED,
                    what + " are removed as unhealthy; restore one to continue", REMOVED_RETRY_AFTER);
        }
        Duration after = Duration.ofNanos(Math.max(0, w.at - now));
        String next = "; next free in " + Durations.ceilSeconds(after) + " s";
        int cause = w.slot.blockCause;
        if (cause >= 0 && cause < w.slot.limits.size()) {
            return new AcquireResult.Denied(name, AcquireResult.Cause.RATE_LIMITED,
                    what + " have reached rate limit (" + w.slot.limits.get(cause).describe() + ")" + next, after);
        }
        if (cause == Availability.UNAVAILABLE) { // a failover store in fail-closed mode, while its backend is down
            return new AcquireResult.Denied(name, AcquireResult.Cause.STORE_UNAVAILABLE, "the usage store of '" + name
                    + "' is unavailable; fail-closed" + next, after);
        }
        if (cause == Availability.LEASED) {
            return new AcquireResult.Denied(name, AcquireResult.Cause.LEASED,
                    what + " are leased to other callers" + next, after);
        }
        return new AcquireResult.Denied(name, AcquireResult.Cause.COOLING_DOWN, what + " are cooling down" + next, after);
    }

    /** See {@link RotationEngine#restampUse}. */
    Availability restamp(SecretLease lease, long usedAt) {
        StoreCandidate candidate;
        long now;
        lock.lock();
        try {
            now = clock.nanoTime();
            Slot s = slots.get(lease.secretId());
            if (s == null || now - usedAt <= s.restampAfterNanos) {
                return new Availability(usedAt, Availability.FREE); // gone, or recent enough for the margin to cover
            }
            candidate = s.candidate;
        } finally {
            lock.unlock();
        }
        try {
            return store.restamp(name, candidate, lease.leaseId(), usedAt, now);
        } catch (RuntimeException e) {
            LOG.warn("usage store failed re-stamping a use of {} of endpoint {}; sent as granted", lease.secretId(),
                    name, e);
            return new Availability(usedAt, Availability.FREE);
        }
    }

    void release(SecretLease lease, Outcome outcome) {
        List<SecretStateEvent> events = null;
        lock.lock();
        try {
            long now = clock.nanoTime(); // read under the lock: uses reach the store in time order
            Slot s = slots.get(lease.secretId());
            if (s == null) {
                return; // the secret left the configuration while leased
            }
            HealthVerdict v = HealthRules.apply(config.health(), s.health, outcome, now, random);
            selector.healthChanged(s);
            if (!terms.leased() && v.cooldownUntil() == 0 && !v.remove()) {
                return; // nothing for the store to change: spare it the call (a round trip for a remote store)
            }
            if (readyQueue != null && readyQueue.wantsMore()) {
                readyQueue.requestRefill(); // a lease slot may have freed up
            }
            Availability a;
            try {
                a = store.release(name, s.candidate, terms, terms.leased() ? lease.leaseId() : null, now,
                        v.cooldownUntil(), v.remove());
            } catch (RuntimeException e) {
                LOG.warn("usage store failed releasing {} of endpoint {}; its lease lapses by TTL", s.id, name, e);
                return;
            }
            if (!(s.location == Slot.Location.READY && a.freeAt() <= now)) {
                place(s, a, now);
            }
            if (v.cooldownUntil() > now || v.remove()) {
                s.invalidations++; // also when the store already knew a later cooldown: prefetched uses are stale
                events = new ArrayList<>(2);
                if (v.cooldownUntil() > now) {
                    events.add(new SecretStateEvent(name, s.id, v.ban() ? SecretStateEvent.Kind.BAN
                            : SecretStateEvent.Kind.COOLDOWN, Clock.toInstant(now), Clock.toInstant(v.cooldownUntil()),
                            v.reason()));
                }
                if (v.remove()) {
                    events.add(new SecretStateEvent(name, s.id, SecretStateEvent.Kind.REMOVED, Clock.toInstant(now),
                            null, v.reason()));
                }
            }
        } finally {
            lock.unlock();
            if (events != null) {
                sink.accept(events);
            }
        }
    }

    /** Operator: out of rotation until {@link #restore}. */
    SecretStateEvent remove(String secretId, String reason) {
        long now = clock.nanoTime();
        lock.lock();
        try {
            Slot s = slot(secretId);
            store.remove(name, secretId);
            place(s, new Availability(Long.MAX_VALUE, Availability.REMOVED), now);
            return new SecretStateEvent(name, secretId, SecretStateEvent.Kind.REMOVED, Clock.toInstant(now), null, reason);
        } finally {
            lock.unlock();
        }
    }

    /** Operator or health probe: back into rotation, cooldown cleared. */
    SecretStateEvent restore(String secretId) {
        long now = clock.nanoTime();
        lock.lock();
        try {
            Slot s = slot(secretId);
            store.restore(name, secretId);
            if (s.location == Slot.Location.READY) {
                selector.remove(s);
            }
            s.waitGen++;
            s.location = Slot.Location.READY; // the store re-checks limits and leases on the next acquire
            selector.add(s);
            if (readyQueue != null) {
                readyQueue.requestRefill();
            }
            return new SecretStateEvent(name, secretId, SecretStateEvent.Kind.RESTORED, Clock.toInstant(now), null,
                    "restored");
        } finally {
            lock.unlock();
        }
    }

    void recordPastUses(String secretId, long[] times) {
        lock.lock();
        try {
            Slot s = slot(secretId);
            store.recordPastUses(name, s.candidate, times);
            s.rank += times.length;
            s.invalidations++; // the restored uses may put a prefetched use over a limit
            if (s.location == Slot.Location.READY || s.location == Slot.Location.WAITING) {
                // re-rank it; restored uses may block it, which the store tells on the next acquire
                if (s.location == Slot.Location.READY) {
                    selector.remove(s);
                }
                s.waitGen++;
                s.location = Slot.Location.READY;
                selector.add(s);
            }
        } finally {
            lock.unlock();
        }
    }

    List<SecretStats> stats() {
        long now = clock.nanoTime();
        lock.lock();
        try {
            List<SecretStats> out = new ArrayList<>(slots.size());
            for (Slot s : slots.values()) {
                SecretUsage u = store.usage(name, s.candidate, terms, now);
                List<SecretStats.WindowUsage> windows = new ArrayList<>();
                for (int i = 0; i < s.limits.size(); i++) {
                    windows.add(new SecretStats.WindowUsage(s.limits.get(i), u.usesPerLimit().get(i)));
                }
                Availability a = u.availability();
                SecretState state;
                if (u.removed()) {
                    state = SecretState.REMOVED;
                } else if (a.cause() == Availability.FREE) {
                    state = SecretState.READY;
                } else if (a.cause() == Availability.COOLDOWN) {
                    state = SecretState.COOLING_DOWN;
                } else if (a.cause() == Availability.LEASED) {
                    state = SecretState.LEASED;
                } else {
                    state = u.cooldownUntil() > now ? SecretState.COOLING_DOWN : SecretState.RATE_LIMITED;
                }
                out.add(new SecretStats(name, s.id, s.maskedValue, windows, u.totalUses(), u.holders(),
                        s.health.successes(), s.health.failures(), s.health.consecutiveFailures(), state,
                        u.cooldownUntil() > 0 ? Clock.toInstant(u.cooldownUntil()) : null,
                        a.freeAt() == Long.MAX_VALUE ? null : Clock.toInstant(Math.max(a.freeAt(), now))));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    int secretCount() {
        lock.lock();
        try {
            return slots.size();
        } finally {
            lock.unlock();
        }
    }

    /** The slot of a secret granted under the lock just now. */
    Slot slotOf(String secretId) {
        return slots.get(secretId);
    }

    /**
     * Gives back a lease that was never used (a dropped ready-queue entry): ends it in the store without an outcome,
     * so health is untouched; its use stays counted. Under the lock.
     */
    void releaseUnused(SecretLease lease, long now) {
        Slot s = slots.get(lease.secretId());
        if (s == null || lease.expiresAtNanos() == Long.MAX_VALUE || lease.expiresAtNanos() <= now) {
            return; // gone, never leased, or already lapsed: nothing is held
        }
        Availability a;
        try {
            a = store.release(name, s.candidate, terms, lease.leaseId(), now, 0, false);
        } catch (RuntimeException e) {
            LOG.warn("usage store failed releasing unused {} of endpoint {}; its lease lapses by TTL", s.id, name, e);
            return;
        }
        if (!(s.location == Slot.Location.READY && a.freeAt() <= now)) {
            place(s, a, now);
        }
    }

    private void reconfigureReadyQueue(EndpointConfig newConfig) {
        long now = clock.nanoTime();
        if (!newConfig.prefetch().enabled()) {
            if (readyQueue != null) {
                readyQueue.close(now);
                readyQueue = null;
            }
            return;
        }
        if (readyQueue == null) {
            PrefetchScheduler scheduler = prefetchScheduler.get();
            if (scheduler == null) {
                return; // the engine is closed
            }
            readyQueue = new ReadyQueue(this, newConfig.prefetch(), scheduler, clock);
        } else {
            readyQueue.reconfigure(newConfig.prefetch(), now);
        }
        readyQueue.requestRefill();
    }

    /** Stops prefetching and releases what the ready queue holds. */
    void close() {
        lock.lock();
        try {
            if (readyQueue != null) {
                readyQueue.close(clock.nanoTime());
                readyQueue = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** How many secrets the ready queue holds now; 0 without one. */
    int prefetched() {
        lock.lock();
        try {
            return readyQueue == null ? 0 : readyQueue.size();
        } finally {
            lock.unlock();
        }
    }

    private Slot slot(String secretId) {
        Slot s = slots.get(secretId);
        if (s == null) {
            throw new IllegalArgumentException("endpoint '" + name + "' has no secret with id " + secretId
                    + "; known ids: " + (slots.size() <= 20 ? slots.keySet().toString() : slots.size() + " secrets"));
        }
        return s;
    }
}
