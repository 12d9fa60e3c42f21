package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.HealthRules;
import dev.proxymanager.middleware.health.HealthVerdict;
import dev.proxymanager.middleware.health.LimitState;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeClassifier;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStoreFailedException;
import dev.proxymanager.middleware.store.UsageStoreUnavailableException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One endpoint's rotation: ready secrets in a {@link Selector}, blocked ones in a heap by when they free up, and the
 * store as the authority on counts, leases and cooldowns. All state is guarded by {@link #lock}, taken only through
 * {@link #locked}: no store call (a network round trip for Redis) runs under it, and the events found under it are
 * fired after it is released. Secrets out at the store are {@link Slot.Location#ELSEWHERE}, so no other caller
 * picks them meanwhile.
 */
final class EndpointRotation {

    /** Denied with every secret removed: a suggestion for clients, since removal has no end. */
    static final Duration REMOVED_RETRY_AFTER = Duration.ofSeconds(60);
    /** Denied because the store failed: a short suggestion, stores usually come back quickly. */
    static final Duration STORE_RETRY_AFTER = Duration.ofSeconds(5);
    private static final long BUSY_WAIT_NANOS = 50_000;
    /**
     * How soon a secret leased by another process (a shared store) is asked for again: its holder's release is not
     * seen here, and waiting for the lease's end (its TTL, 60 s by default) would starve this process of it.
     */
    static final long LEASED_ELSEWHERE_RECHECK_NANOS = Duration.ofMillis(25).toNanos();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EndpointRotation.class);

    private record Wait(long at, Slot slot, int gen) {
    }

    /** What {@link #pick} returns: candidates to ask the store about, or the attempt's end. */
    private sealed interface Step permits Pick, Attempt, Again, Busy {
    }

    /**
     * Nothing is ready, but other callers' store calls hold candidates: their answers decide whether a secret frees
     * up, so wait for them instead of denying with a view that lacks those secrets.
     */
    private record Busy() implements Step {
    }

    /** Stale ready-queue entries were dropped: pick again once the store has their leases back. */
    private record Again() implements Step {
    }

    /** Candidates taken out of the ready set (now {@code ELSEWHERE}) for one store call. */
    private record Pick(Slot[] slots, StoreCandidate[] candidates, int count, LeaseTerms terms, String leaseId,
                        long now, long routes, int units) implements Step {
    }

    /**
     * The end of an acquire: its result and, for a grant from the store, the secret's slot and its invalidation
     * count at the grant (what the ready queue keeps to tell a stale entry).
     */
    record Attempt(AcquireResult result, Slot slot, int invalidations) implements Step {
    }

    private static final int MAX_BATCH = 16;
    /** The most uses one call's reported cost adds (a bound on one store call's size). */
    private static final int MAX_DEBIT = 100_000;

    final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Clock clock;
    private final UsageStore store;
    private final SplittableRandom random;
    private final String leasePrefix;
    private final java.util.function.Consumer<List<SecretStateEvent>> sink;
    private long leaseCounter;
    private final java.util.concurrent.atomic.LongAdder malformedQuotaHeaders = new java.util.concurrent.atomic.LongAdder();

    private EndpointConfig config;
    private LeaseTerms terms;
    /** The endpoint's route buckets (distinct matches of its limits), in bucket-index order. */
    private List<dev.proxymanager.middleware.config.RouteMatch> buckets = List.of();
    // what pick() skipped for a full route bucket, for the denial when nothing else is free
    private long skippedFreeAt;
    private LimitConfig skippedLimit; // null: nothing skipped for a full bucket or a cost that does not fit yet
    private String skippedWhose;
    private boolean skippedUpstream; // what was skipped waits for the upstream's reset, not for one of our limits
    private Slot skippedTooSmall;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    /** The last quota the upstream reported to this process, per secret: what metrics show without a store call. */
    private final java.util.concurrent.ConcurrentHashMap<String, UpstreamQuota> lastReported =
            new java.util.concurrent.ConcurrentHashMap<>();
    private Selector selector;
    private final PriorityQueue<Wait> waiting = new PriorityQueue<>((a, b) -> Long.compare(a.at, b.at));
    /** State changes found under the lock, fired after it is released. */
    private List<SecretStateEvent> pendingEvents;
    /** Store calls found needed under the lock (releasing dropped prefetched leases), made after it is released. */
    private List<Runnable> pendingStoreCalls;
    /** Slots taken out for store calls still under way ({@code ELSEWHERE} until their answer is placed). */
    private int slotsInStoreCalls;
    private final java.util.function.Supplier<PrefetchScheduler> prefetchScheduler;
    /** The producer queue when the endpoint prefetches; {@code null} otherwise. */
    private ReadyQueue readyQueue;

    EndpointRotation(EndpointConfig config, Clock clock, UsageStore store, SplittableRandom random, String leasePrefix,
                     java.util.function.Consumer<List<SecretStateEvent>> sink,
                     java.util.function.Supplier<PrefetchScheduler> prefetchScheduler) {
        this.name = config.name();
        this.prefetchScheduler = prefetchScheduler;
        this.sink = sink;
        this.clock = clock;
        this.store = store;
        this.random = random;
        this.leasePrefix = leasePrefix + name + "-";
        reconfigure(config); // under the lock: the producer may start at once and must see the whole setup
    }

    /**
     * The one way to touch this endpoint's state: runs {@code body} under the lock, then, with the lock released,
     * makes the store calls and fires the events the body gathered.
     */
    <T> T locked(java.util.function.Supplier<T> body) {
        List<SecretStateEvent> events = null;
        List<Runnable> storeCalls = null;
        lock.lock();
        try {
            return body.get();
        } finally {
            if (lock.getHoldCount() == 1) { // a nested call leaves both to the outermost, which unlocks for good
                events = pendingEvents;
                pendingEvents = null;
                storeCalls = pendingStoreCalls;
                pendingStoreCalls = null;
            }
            lock.unlock();
            if (storeCalls != null) {
                storeCalls.forEach(Runnable::run);
            }
            if (events != null) {
                sink.accept(events);
            }
        }
    }

    private void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    EndpointConfig config() {
        return config;
    }

    /**
     * Replaces secrets, limits and rotation settings; remaining secrets keep their counts and health. Fires a
     * {@code removed} event for each secret that left the configuration, whose state the store then forgets.
     */
    void reconfigure(EndpointConfig newConfig) {
        if (!newConfig.name().equals(name)) {
            throw new IllegalArgumentException("endpoint name must stay " + name + ", was " + newConfig.name());
        }
        List<String> forgotten = new ArrayList<>();
        locked(() -> reconfigureLocked(newConfig, forgotten));
        for (String id : forgotten) {
            store.forget(name, id);
        }
    }

    private void reconfigureLocked(EndpointConfig newConfig, List<String> forgotten) {
        long now = clock.nanoTime();
        long minRank = selector instanceof Selector.LeastUsed lu ? lu.minRank() : 0;
        Map<String, SecretConfig> incoming = new LinkedHashMap<>();
        for (SecretConfig s : newConfig.secrets()) {
            incoming.put(s.id(), s);
        }
        for (Slot old : new ArrayList<>(slots.values())) {
            if (!incoming.containsKey(old.id)) {
                old.location = Slot.Location.GONE;
                slots.remove(old.id);
                forgotten.add(old.id);
                addEvent(new SecretStateEvent(name, old.id, SecretStateEvent.Kind.REMOVED, Clock.toInstant(now), null,
                        "no longer in the configuration"));
            }
        }
        Map<String, Slot> ordered = new LinkedHashMap<>();
        List<dev.proxymanager.middleware.config.RouteMatch> newBuckets = newConfig.routeBuckets();
        for (SecretConfig s : incoming.values()) {
            Slot slot = slots.get(s.id());
            if (slot == null) {
                slot = new Slot(s, newConfig.limits(), newConfig.groupOf(s.id()), newConfig.limitMargin(),
                        newConfig.health().failureWindowFailures(), newBuckets);
                slot.rank = minRank;
            } else {
                // the group's, the routes' and the margin's changes included
                StoreCandidate before = slot.candidate(slot.routeMask);
                slot.update(s, newConfig.limits(), newConfig.groupOf(s.id()), newConfig.limitMargin(), newBuckets);
                if (!before.equals(slot.candidate(slot.routeMask))) {
                    slot.invalidations++; // a use prefetched under the old limits may be over the new ones
                }
                slot.health.resizeWindow(newConfig.health().failureWindowFailures());
            }
            ordered.put(s.id(), slot);
        }
        slots.clear();
        slots.putAll(ordered);
        config = newConfig;
        buckets = newBuckets;
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
     * queue, hands out its newest good entry (entry {@code preferredId} when queued) and asks the store only when it
     * has none.
     */
    AcquireResult acquire(String preferredId) {
        return acquireAttempt(preferredId, true, CallRoute.UNKNOWN).result();
    }

    /** As {@link #acquire(String)} for a call of {@code route}: counted in its route buckets, at its cost. */
    AcquireResult acquire(String preferredId, CallRoute route) {
        return acquireAttempt(preferredId, true, route).result();
    }

    /**
     * Selects under the lock, asks the store without it, places the answer under the lock again; when the store
     * refused every candidate (this view was stale: another process used them), widens the batch and goes on.
     *
     * @param fromReadyQueue whether a good ready-queue entry may answer first (not for the queue's own refill)
     */
    Attempt acquireAttempt(String preferredId, boolean fromReadyQueue) {
        return acquireAttempt(preferredId, fromReadyQueue, CallRoute.UNKNOWN);
    }

    /** As {@link #acquireAttempt(String, boolean)} for a call of {@code route}. */
    Attempt acquireAttempt(String preferredId, boolean fromReadyQueue, CallRoute route) {
        int batch = 1;
        String preferred = preferredId;
        boolean queue = fromReadyQueue;
        while (true) {
            int size = batch;
            String first = preferred;
            boolean useQueue = queue;
            Step step = locked(() -> pick(first, size, useQueue, route));
            if (step instanceof Attempt done) {
                return done;
            }
            if (step instanceof Again) {
                queue = false; // the queue had no good entry; its dropped leases are released now
                continue;
            }
            if (step instanceof Busy) {
                LockSupport.parkNanos(BUSY_WAIT_NANOS); // a store call takes a round trip at most
                continue;
            }
            Pick pick = (Pick) step;
            StoreDecision decision;
            try {
                decision = store.acquire(name, pick.candidates(), pick.count(), pick.terms(), pick.leaseId(),
                        pick.now(), pick.units());
            } catch (RuntimeException e) {
                return locked(() -> storeFailed(e, pick));
            }
            Attempt done = locked(() -> apply(pick, decision));
            if (done != null) {
                return done;
            }
            batch = Math.min(batch * 4, MAX_BATCH);
            preferred = null; // one try: if the store refuses it, the rotation method picks
            queue = false;
        }
    }

    /** Under the lock: a ready-queue entry, or up to {@code batch} candidates taken out for the store, or a denial. */
    private Step pick(String preferredId, int batch, boolean fromReadyQueue, CallRoute route) {
        long now = clock.nanoTime(); // read under the lock: uses reach the store close to time order
        long mask = buckets.isEmpty() ? 0 : routeMask(route);
        int units = route.cost() != CallRoute.CONFIGURED_COST ? route.cost()
                : config.costs().isEmpty() ? 1 : config.costOf(route.method(), route.path());
        boolean plain = mask == 0 && units == 1; // counted as every call is: today's path, prefetched uses fit it
        if (units > 1) {
            checkCost(route, units);
        }
        if (plain && fromReadyQueue && readyQueue != null) {
            SecretLease prefetched = readyQueue.take(preferredId, now);
            if (prefetched != null) {
                return new Attempt(new AcquireResult.Granted(prefetched), null, 0);
            }
            if (pendingStoreCalls != null) {
                return new Again();
            }
        }
        promote(now);
        Slot[] picked = new Slot[batch];
        StoreCandidate[] candidates = new StoreCandidate[batch];
        int k = 0;
        Slot preferred = preferredId == null ? null : slots.get(preferredId);
        skippedLimit = null;
        skippedUpstream = false;
        skippedTooSmall = null;
        if (preferred != null && preferred.location == Slot.Location.READY && (plain || fits(preferred, mask, units,
                now))) {
            selector.remove(preferred);
            preferred.location = Slot.Location.ELSEWHERE;
            picked[0] = preferred;
            candidates[0] = preferred.candidate(mask);
            k = 1;
        }
        Slot s;
        List<Slot> skipped = null;
        while (k < batch && (s = selector.poll(now)) != null) {
            if (!plain && !fits(s, mask, units, now)) {
                // ready for other calls: back to its place once this pick is done
                if (skipped == null) {
                    skipped = new ArrayList<>();
                }
                skipped.add(s);
                continue;
            }
            s.location = Slot.Location.ELSEWHERE;
            picked[k] = s;
            candidates[k] = s.candidate(mask);
            k++;
        }
        if (skipped != null) {
            for (int i = skipped.size() - 1; i >= 0; i--) {
                selector.putBack(skipped.get(i));
            }
        }
        if (k == 0) {
            if (slotsInStoreCalls > 0) {
                return new Busy();
            }
            if (skippedLimit != null || skippedUpstream) {
                return new Attempt(routeDenied(now), null, 0);
            }
            if (skippedTooSmall != null && liveWait() == null) {
                Slot t = skippedTooSmall;
                throw new CostTooLargeException(name, units, t.tightest(t.candidate(mask)), "secret " + t.id + ": ");
            }
            return new Attempt(denied(now), null, 0);
        }
        slotsInStoreCalls += k;
        return new Pick(picked, candidates, k, terms, leasePrefix + (++leaseCounter), now, mask, units);
    }

    /** Whether {@code lease}'s grant counted as a call of {@code route} would: the same route buckets and units. */
    boolean countsAs(SecretLease lease, CallRoute route) {
        return locked(() -> {
            Slot s = slots.get(lease.secretId());
            long mask = s == null ? 0 : routeMask(route) & s.routeMask;
            int units = route.cost() != CallRoute.CONFIGURED_COST ? route.cost()
                    : config.costOf(route.method(), route.path());
            return mask == lease.routes() && units == lease.units();
        });
    }

    /** The route buckets of this endpoint a call counts in, as a bit set of bucket indexes; 0 without buckets. */
    private long routeMask(CallRoute route) {
        long mask = 0;
        for (int b = 0; b < buckets.size(); b++) {
            if (buckets.get(b).matches(route.method(), route.path())) {
                mask |= 1L << b;
            }
        }
        return mask;
    }

    /**
     * Refuses a cost no endpoint-wide limit counting the call could ever admit, before any store call (a secret's own
     * smaller limits skip that secret).
     */
    private void checkCost(CallRoute route, int units) {
        for (LimitConfig l : config.limits()) {
            if (l.requests() < units && (l.match() == null || l.match().matches(route.method(), route.path()))) {
                throw new CostTooLargeException(name, units, l, l.match() == null ? "" : "route "
                        + l.match().canonical() + ": ");
            }
        }
    }

    /**
     * Whether slot {@code s} may serve a call counting in buckets {@code mask} at {@code units}: none of those
     * buckets was full at the store's last word, and no limit counting the call is smaller than the cost. Notes what
     * it skips for the denial.
     */
    private boolean fits(Slot s, long mask, int units, long now) {
        if (units > 1 && s.candidate(mask).maxUnits() < units) {
            skippedTooSmall = s;
            return false;
        }
        long m = mask & s.routeMask;
        if (units > 1 && units >= s.heavyUnits && s.heavyFullUntil > now && m == s.heavyRoutes) {
            skipped(s.heavyFullUntil, s.heavyLimit, "", false);
            return false;
        }
        while (m != 0) {
            Slot.Route r = s.byBucket[Long.numberOfTrailingZeros(m)];
            m &= m - 1;
            if (r.upstreamUntil > now && r.upstreamUntil >= r.fullUntil) {
                skipped(r.upstreamUntil, null, "route " + r.match.canonical() + ": ", true);
                return false;
            }
            if (r.fullUntil > now) {
                skipped(r.fullUntil, r.fullLimit, "route " + r.match.canonical() + ": ", false);
                return false;
            }
        }
        return true;
    }

    private void skipped(long freeAt, LimitConfig limit, String whose, boolean upstream) {
        if ((skippedLimit == null && !skippedUpstream) || freeAt < skippedFreeAt) {
            skippedFreeAt = freeAt;
            skippedLimit = limit;
            skippedWhose = whose;
            skippedUpstream = upstream;
        }
    }

    /**
     * Denied because on every secret that is otherwise free the call's route bucket is full, or its cost does not
     * fit yet.
     */
    private AcquireResult routeDenied(long now) {
        Wait w = liveWait();
        if (w != null && w.at < skippedFreeAt) {
            return denied(now); // another secret frees sooner
        }
        Duration after = Duration.ofNanos(Math.max(0, skippedFreeAt - now));
        if (skippedUpstream) {
            return new AcquireResult.Denied(name, UnavailableCause.COOLING_DOWN, "all " + config.type().plural()
                    + " of '" + name + "' are cooling down (" + skippedWhose + "upstream quota exhausted); next free in "
                    + Durations.ceilSeconds(after) + " s", after);
        }
        LimitConfig binding = skippedLimit;
        return new AcquireResult.Denied(name, UnavailableCause.AT_LIMIT, "all " + config.type().plural() + " of '"
                + name + "' have reached rate limit (" + skippedWhose + binding.describe() + "); next free in "
                + Durations.ceilSeconds(after) + " s", after, binding);
    }

    /** The waiting heap's earliest live entry, dropping stale ones; null when none. */
    private Wait liveWait() {
        Wait w;
        while ((w = waiting.peek()) != null && (w.slot.waitGen != w.gen || w.slot.location != Slot.Location.WAITING)) {
            waiting.poll();
        }
        return w;
    }

    /** Under the lock: places the store's answer; the grant, or {@code null} when it granted none. */
    private Attempt apply(Pick pick, StoreDecision d) {
        slotsInStoreCalls -= pick.count();
        long now = pick.now();
        Slot[] picked = pick.slots();
        List<Availability> examined = d.examined();
        if (d.isGranted()) {
            picked[d.granted()].rank += pick.units(); // before placing it, so least-used orders it by its new count
        }
        for (int i = 0; i < examined.size(); i++) {
            // the store answers about a granted secret for one more use: what every call sees
            place(picked[i], pick.candidates()[i], examined.get(i), now, i == d.granted() ? 1 : pick.units());
        }
        for (int i = pick.count() - 1; i >= examined.size(); i--) {
            putBack(picked[i]);
        }
        if (!d.isGranted()) {
            return null;
        }
        Slot g = picked[d.granted()];
        g.inFlight++;
        long granted = pick.routes() & g.routeMask;
        while (granted != 0) {
            g.byBucket[Long.numberOfTrailingZeros(granted)].inFlight++;
            granted &= granted - 1;
        }
        if (d.capCooldownUntil() > 0) {
            addEvent(new SecretStateEvent(name, g.id, SecretStateEvent.Kind.COOLDOWN,
                    Clock.toInstant(now), Clock.toInstant(d.capCooldownUntil()),
                    "usage cap reached (" + capDescription(g, now) + ")"));
        }
        long expires = pick.terms().leased() ? now + pick.terms().ttlNanos() : Long.MAX_VALUE;
        return new Attempt(new AcquireResult.Granted(new SecretLease(name, config.type(), g.id, g.maskedValue,
                g.value, pick.leaseId(), now, expires, pick.routes() & g.routeMask, pick.units())), g,
                g.invalidations);
    }

    /** A candidate the store did not examine goes back, unless something else placed it meanwhile. */
    private void putBack(Slot s) {
        if (s.location == Slot.Location.ELSEWHERE) {
            s.location = Slot.Location.READY;
            selector.putBack(s);
        }
    }

    private void addEvent(SecretStateEvent e) {
        if (pendingEvents == null) {
            pendingEvents = new ArrayList<>(2);
        }
        pendingEvents.add(e);
    }

    /**
     * The store threw: nothing was checked, so nothing is granted. Fail-open and fail-closed are the store's policy
     * ({@link dev.proxymanager.middleware.store.FailoverUsageStore}), which answers an outage without throwing; what
     * reaches here is a store without that wrapper, or an error that is not an outage. The candidates go back.
     */
    private Attempt storeFailed(RuntimeException e, Pick pick) {
        slotsInStoreCalls -= pick.count();
        for (int i = pick.count() - 1; i >= 0; i--) {
            putBack(pick.slots()[i]);
        }
        if (e instanceof UsageStoreUnavailableException) {
            LOG.warn("usage store unavailable for endpoint {}; denying: {}", name, e.getMessage());
            return new Attempt(new AcquireResult.Denied(name, UnavailableCause.STORE_UNAVAILABLE,
                    "the usage store of '" + name + "' is unavailable", STORE_RETRY_AFTER), null, 0);
        }
        if (e instanceof UsageStoreFailedException) { // the failover store logged its cause already
            LOG.error("usage store failed for endpoint {}; denying, limits are never skipped: {}", name,
                    e.getMessage());
        } else {
            LOG.error("usage store failed for endpoint {}; denying, limits are never skipped", name, e);
        }
        return new Attempt(new AcquireResult.Denied(name, UnavailableCause.STORE_FAILED, "the usage store of '"
                + name + "' failed (" + e.getClass().getSimpleName() + "); no secret is handed out without limit "
                + "checks", STORE_RETRY_AFTER), null, 0);
    }

    private String capDescription(Slot g, long now) {
        for (LimitConfig l : g.limits) {
            if (l.hasCooldown()) {
                return l.describe() + ", cooldown " + Durations.describe(l.cooldown());
            }
        }
        return "limit";
    }

    /**
     * Places a slot by the store's answer about candidate {@code c} of it: a full route bucket holds back only the
     * calls counting in it (the slot stays ready for the others); any other limit, as in {@link #place(Slot,
     * Availability, long)}.
     */
    private void place(Slot s, StoreCandidate c, Availability a, long now, int units) {
        if (units > 1 && a.cause() == UnavailableCause.AT_LIMIT && s.location != Slot.Location.GONE) {
            // when a weighted call fits depends on its weight: hold back only calls as heavy, in the same buckets
            s.heavyFullUntil = a.freeAt();
            s.heavyUnits = units;
            s.heavyRoutes = c == s.candidate ? 0 : routesOf(s, c);
            s.heavyLimit = s.limitAt(c, a.limit());
            s.atLimitSeenAt = now;
            s.atLimitFreeAt = a.freeAt();
            if (s.location == Slot.Location.ELSEWHERE) {
                placeOne(s, new Availability(now, UnavailableCause.READY), now);
            }
            return;
        }
        if (c != s.candidate && a.cause() == UnavailableCause.AT_LIMIT) {
            int base = s.baseIndex(c, a.limit());
            if (base < 0) {
                Slot.Route r = s.routeAt(c, a.limit());
                if (r != null && s.location != Slot.Location.GONE) {
                    r.fullUntil = a.freeAt();
                    r.fullLimit = s.limitAt(c, a.limit());
                    s.atLimitSeenAt = now;
                    s.atLimitFreeAt = a.freeAt();
                }
                if (s.location == Slot.Location.ELSEWHERE) {
                    placeOne(s, new Availability(now, UnavailableCause.READY), now);
                }
                return;
            }
            a = Availability.atLimit(a.freeAt(), base);
        }
        place(s, a, now);
    }

    /** The bit set of the route buckets of candidate {@code c} of slot {@code s}. */
    private static long routesOf(Slot s, StoreCandidate c) {
        long m = 0;
        for (Slot.Route r : s.routes) {
            if (c.routes().contains(r.candidate)) {
                m |= 1L << r.bucket;
            }
        }
        return m;
    }

    /** Puts a slot where its availability (about {@link Slot#candidate}) says: ready, waiting until a time, or removed. */
    private void place(Slot s, Availability a, long now) {
        placeOne(s, a, now);
        if (a.cause() == UnavailableCause.AT_LIMIT && a.limit() >= s.limits.size() && s.group != null
                && a.freeAt() > now) {
            // the group's window is full: its other ready members would only be refused by the store one by one
            for (String id : s.group.secretIds()) {
                Slot m = slots.get(id);
                if (m != null && m != s && m.location == Slot.Location.READY) {
                    placeOne(m, Availability.atLimit(a.freeAt(), m.limits.size() + (a.limit() - s.limits.size())),
                            now);
                }
            }
        }
    }

    private void placeOne(Slot s, Availability a, long now) {
        if (s.location == Slot.Location.GONE) {
            return;
        }
        if (a.cause() == UnavailableCause.AT_LIMIT) {
            s.atLimitSeenAt = now;
            s.atLimitFreeAt = a.freeAt();
        }
        long freeAt = a.freeAt();
        if (a.cause() == UnavailableCause.LEASED && store.sharedAcrossProcesses()) {
            // held by another process, whose release this one does not see: the lease's end is only the latest
            freeAt = Math.min(freeAt, now + LEASED_ELSEWHERE_RECHECK_NANOS);
        }
        if (a.cause() == UnavailableCause.REMOVED || a.cause() == UnavailableCause.COOLING_DOWN) {
            s.invalidations++; // a prefetched use of it must not be handed out now
        }
        if (s.location == Slot.Location.READY) {
            selector.remove(s);
        }
        if (s.location == Slot.Location.WAITING && a.cause() != UnavailableCause.REMOVED && freeAt == s.waitUntil
                && freeAt > now) {
            s.blockedBy = a;
            return; // already waiting for exactly this time: no duplicate heap entry
        }
        s.waitGen++;
        if (a.cause() == UnavailableCause.REMOVED) {
            s.location = Slot.Location.REMOVED;
        } else if (freeAt <= now) {
            s.location = Slot.Location.READY;
            selector.add(s);
        } else {
            s.location = Slot.Location.WAITING;
            s.blockedBy = a;
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
        Wait w = liveWait();
        String what = "all " + config.type().plural() + " of '" + name + "'";
        if (w == null) {
            return new AcquireResult.Denied(name, UnavailableCause.REMOVED,
                    what + " are removed as unhealthy; restore one to continue", REMOVED_RETRY_AFTER);
        }
        Duration after = Duration.ofNanos(Math.max(0, w.at - now));
        String next = "; next free in " + Durations.ceilSeconds(after) + " s";
        Availability blocked = w.slot.blockedBy;
        UnavailableCause cause = blocked.cause();
        LimitConfig binding = cause == UnavailableCause.AT_LIMIT ? w.slot.limitAt(blocked.limit()) : null;
        if (binding != null) {
            String whose = blocked.limit() < w.slot.limits.size() ? "" : "group " + w.slot.group.name() + ": ";
            return new AcquireResult.Denied(name, UnavailableCause.AT_LIMIT,
                    what + " have reached rate limit (" + whose + binding.describe() + ")" + next, after, binding);
        }
        if (cause == UnavailableCause.STORE_UNAVAILABLE) { // a failover store in fail-closed mode, while its backend is down
            return new AcquireResult.Denied(name, UnavailableCause.STORE_UNAVAILABLE, "the usage store of '" + name
                    + "' is unavailable; fail-closed" + next, after);
        }
        if (cause == UnavailableCause.LEASED) {
            return new AcquireResult.Denied(name, UnavailableCause.LEASED,
                    what + " are leased to other callers" + next, after);
        }
        return new AcquireResult.Denied(name, UnavailableCause.COOLING_DOWN, what + " are cooling down" + next, after);
    }

    /** See {@link RotationEngine#restampUse}. */
    Availability restamp(SecretLease lease, long usedAt) {
        record Target(StoreCandidate candidate, long now) {
        }
        int units = lease.units();
        Target t = locked(() -> {
            long now = clock.nanoTime();
            Slot s = slots.get(lease.secretId());
            // gone, or recent enough for the margin to cover: nothing to move
            return s == null || now - usedAt <= s.restampAfterNanos ? null
                    : new Target(s.candidate(lease.routes()), now);
        });
        if (t == null) {
            return new Availability(usedAt, UnavailableCause.READY);
        }
        try {
            return store.restamp(name, t.candidate(), lease.leaseId(), usedAt, t.now(), units);
        } catch (RuntimeException e) {
            // the use stays counted at its grant: limits hold, only its time is older than its write
            LOG.warn("usage store failed re-stamping a use of {} of endpoint {}; sent with its grant time",
                    lease.secretId(), name, e);
            return new Availability(usedAt, UnavailableCause.READY);
        }
    }

    /** What a release must tell the store, decided under the lock; {@code slot} is null when the store need not hear. */
    private record ReleaseCall(OutcomeKind kind, Slot slot, StoreCandidate candidate, LeaseTerms terms, String leaseId,
                               long now, HealthVerdict verdict, List<QuotaReport> quotas, long[] debit, Slot costed) {
    }

    /**
     * An upstream report to record: the key's ({@code route} null) when the call counted in no route bucket, else
     * one per bucket it counted in.
     */
    private record QuotaReport(Slot.Route route, UpstreamQuota quota) {
    }

    /**
     * Applies the outcome to the secret's health and the store; returns what the outcome was, as classified here.
     * {@link Outcome#unused()} gives the grant's uses back ({@link #giveBack}).
     */
    OutcomeKind release(SecretLease lease, Outcome outcome) {
        if (outcome.kind() == Outcome.Kind.UNUSED) {
            giveBack(lease);
            return OutcomeKind.UNUSED;
        }
        ReleaseCall call = locked(() -> {
            long now = clock.nanoTime(); // read under the lock: uses reach the store close to time order
            Slot s = slots.get(lease.secretId());
            if (s == null) { // the secret left the configuration while leased
                return new ReleaseCall(OutcomeClassifier.classify(outcome, config.health()), null, null, null, null,
                        now, null, null, null, null);
            }
            s.inFlight = Math.max(0, s.inFlight - 1);
            endRouteCalls(s, lease.routes());
            List<QuotaReport> quota = upstreamQuota(s, outcome, lease.routes(), now);
            long[] debit = debit(outcome, lease);
            LimitState limits = limitState(s, lease);
            OutcomeKind kind = OutcomeClassifier.classify(outcome, config.health(), limits);
            HealthVerdict v = HealthRules.apply(config.health(), s.health, outcome, limits, now, random);
            selector.healthChanged(s);
            if (!terms.leased() && v.cooldownUntil() == 0 && !v.remove()) {
                // nothing for the store to change: spare it the call (a round trip for a remote store)
                return new ReleaseCall(kind, null, null, null, null, now, v, quota, debit, s);
            }
            return new ReleaseCall(kind, s, s.candidate, terms, terms.leased() ? lease.leaseId() : null, now, v, quota,
                    debit, s);
        });
        if (call.debit() != null) {
            debit(call.costed(), call.debit(), lease.routes());
        }
        if (call.quotas() != null) {
            for (QuotaReport q : call.quotas()) {
                recordQuota(lease.secretId(), q.route(), q.quota());
            }
        }
        if (call.slot() == null) {
            return call.kind();
        }
        Slot s = call.slot();
        HealthVerdict v = call.verdict();
        long now = call.now();
        Availability a;
        try {
            a = store.release(name, call.candidate(), call.terms(), call.leaseId(), now, v.cooldownUntil(),
                    v.remove());
        } catch (RuntimeException e) {
            LOG.warn("usage store failed releasing {} of endpoint {}; its lease lapses by TTL", s.id, name, e);
            return call.kind();
        }
        locked(() -> {
            if (!(s.location == Slot.Location.READY && a.freeAt() <= now)) {
                place(s, a, now);
            }
            if (v.cooldownUntil() > now || v.remove()) {
                s.invalidations++; // also when the store already knew a later cooldown: prefetched uses are stale
                if (v.cooldownUntil() > now) {
                    addEvent(new SecretStateEvent(name, s.id, v.ban() ? SecretStateEvent.Kind.BAN
                            : SecretStateEvent.Kind.COOLDOWN, Clock.toInstant(now), Clock.toInstant(v.cooldownUntil()),
                            v.reason()));
                }
                if (v.remove()) {
                    addEvent(new SecretStateEvent(name, s.id, SecretStateEvent.Kind.REMOVED, Clock.toInstant(now),
                            null, v.reason()));
                }
            }
            if (readyQueue != null && readyQueue.wantsMore()) {
                readyQueue.requestRefill(); // a lease slot may have freed up
            }
        });
        return call.kind();
    }

    /** Under the lock: a call that counted in route buckets {@code routes} of {@code s} is no longer in flight. */
    private static void endRouteCalls(Slot s, long routes) {
        long m = routes & s.routeMask;
        while (m != 0) {
            Slot.Route r = s.byBucket[Long.numberOfTrailingZeros(m)];
            r.inFlight = Math.max(0, r.inFlight - 1);
            m &= m - 1;
        }
    }

    /**
     * Under the lock: the binding quota {@code outcome}'s response reported, less the calls still in flight on what
     * it is about (the upstream counts them after this answer) and one more when another caller's acquire holds the
     * secret now; {@code null} when it reported none with a reset. A call that counted in route buckets
     * {@code routes} reports about those buckets (GitHub answers a search call with the search quota), one in none
     * about the key.
     */
    private List<QuotaReport> upstreamQuota(Slot s, Outcome outcome, long routes, long now) {
        QuotaReading reading = outcome.quota();
        if (reading.malformed() > 0) {
            malformedQuotaHeaders.add(reading.malformed());
        }
        UpstreamQuota q = reading.binding();
        if (q == null || !q.liveAt(now)) {
            return null;
        }
        // a slot out for another caller's store call may be granted before this report reaches the store
        int pending = s.location == Slot.Location.ELSEWHERE ? 1 : 0;
        long m = routes & s.routeMask;
        if (m == 0) {
            return List.of(new QuotaReport(null, q.minus(s.inFlight + pending)));
        }
        List<QuotaReport> out = new ArrayList<>(Long.bitCount(m));
        while (m != 0) {
            Slot.Route r = s.byBucket[Long.numberOfTrailingZeros(m)];
            out.add(new QuotaReport(r, q.minus(r.inFlight + pending)));
            m &= m - 1;
        }
        return out;
    }

    /**
     * Tells the store what the upstream reported; when nothing is left, the secret also waits here until the reset
     * (the store refuses it until then anyway: this spares it the asking).
     */
    /**
     * Per secret of this endpoint, in configuration order, the remaining the upstream last reported to this process
     * while its window holds, or {@code null}; read from memory, so a metrics scrape costs the store nothing.
     */
    Map<String, Long> reportedRemaining() {
        long now = clock.nanoTime();
        List<String> ids = locked(() -> new ArrayList<>(slots.keySet()));
        Map<String, Long> out = new LinkedHashMap<>();
        for (String id : ids) {
            UpstreamQuota q = lastReported.get(id);
            out.put(id, q != null && q.resetAt() > now ? q.remaining() : null);
        }
        lastReported.keySet().retainAll(ids);
        return out;
    }

    private void recordQuota(String secretId, Slot.Route route, UpstreamQuota quota) {
        if (route != null) {
            recordRouteQuota(secretId, route, quota);
            return;
        }
        lastReported.put(secretId, quota);
        try {
            store.recordQuota(name, secretId, quota, quota.learnedAt());
        } catch (RuntimeException e) {
            LOG.warn("usage store failed recording the upstream quota of {} of endpoint {}", secretId, name, e);
        }
        if (quota.remaining() > 0) {
            return;
        }
        locked(() -> {
            Slot s = slots.get(secretId);
            long now = clock.nanoTime();
            if (s != null && quota.resetAt() > now && (s.location == Slot.Location.READY
                    || (s.location == Slot.Location.WAITING && s.waitUntil < quota.resetAt()))) {
                place(s, new Availability(quota.resetAt(), UnavailableCause.COOLING_DOWN), now);
                addEvent(new SecretStateEvent(name, secretId, SecretStateEvent.Kind.COOLDOWN, Clock.toInstant(now),
                        Clock.toInstant(quota.resetAt()), "upstream quota exhausted"
                        + (quota.policy().isEmpty() ? "" : " (" + quota.policy() + ")")));
            }
        });
    }

    /**
     * Tells the store what the upstream reported about one route bucket of a secret; when nothing is left, the calls
     * counting in that bucket skip the secret here until the reset (other calls go on with it).
     */
    private void recordRouteQuota(String secretId, Slot.Route route, UpstreamQuota quota) {
        try {
            store.recordQuota(name, route.candidate.secretId(), quota, quota.learnedAt());
        } catch (RuntimeException e) {
            LOG.warn("usage store failed recording the upstream quota of route {} of {} of endpoint {}",
                    route.match.canonical(), secretId, name, e);
        }
        if (quota.remaining() > 0) {
            return;
        }
        locked(() -> {
            Slot s = slots.get(secretId);
            long now = clock.nanoTime();
            if (s != null && s.location != Slot.Location.GONE && quota.resetAt() > now
                    && route.upstreamUntil < quota.resetAt()) {
                route.upstreamUntil = quota.resetAt(); // prefetched uses count in no bucket: they stay good
                addEvent(new SecretStateEvent(name, secretId, SecretStateEvent.Kind.COOLDOWN, Clock.toInstant(now),
                        Clock.toInstant(quota.resetAt()), "upstream quota exhausted for route "
                        + route.match.canonical() + (quota.policy().isEmpty() ? "" : " (" + quota.policy() + ")")));
            }
        });
    }

    /**
     * The uses a call's reported cost adds to those counted at its grant (its units), all at the grant's time;
     * {@code null} when none (no cost reported, or one not above the units granted: a refund is not made).
     */
    private static long[] debit(Outcome outcome, SecretLease lease) {
        long cost = outcome.quota().cost();
        if (cost <= lease.units()) {
            return null;
        }
        long[] times = new long[(int) Math.min(cost - lease.units(), MAX_DEBIT)];
        java.util.Arrays.fill(times, lease.acquiredAtNanos());
        return times;
    }

    /**
     * Counts a call's extra cost in the store, as past uses at its grant's time, in the logs its grant counted in:
     * its own, the route buckets {@code routes} and its group.
     */
    private void debit(Slot s, long[] times, long routes) {
        StoreCandidate candidate = locked(() -> s.candidate(routes));
        int keep = candidate.logCapacity();
        long[] debited = keep > 0 && times.length > keep ? java.util.Arrays.copyOf(times, keep) : times;
        try {
            store.recordPastUses(name, candidate, debited); // beyond the log's capacity, more uses decide nothing
        } catch (RuntimeException e) {
            LOG.warn("usage store failed debiting {} more uses to {} of endpoint {}", times.length, s.id, name, e);
            return;
        }
        locked(() -> {
            s.rank += times.length;
            s.invalidations++; // a prefetched use may be over a limit now
        });
    }

    /** Quota header values of this endpoint's responses that were malformed and ignored. */
    long malformedQuotaHeaders() {
        return malformedQuotaHeaders.sum();
    }

    /**
     * Near a limit when the store's last answer about {@code s}, at or after this use's grant, said a window was full;
     * what this engine already holds, so a 429 costs no extra store round trip.
     */
    private static LimitState limitState(Slot s, SecretLease lease) {
        return s.atLimitSeenAt != 0 && s.atLimitSeenAt >= lease.acquiredAtNanos()
                ? LimitState.atLimitUntil(s.atLimitFreeAt) : LimitState.UNKNOWN;
    }

    /** Operator: out of rotation until {@link #restore}; fires a {@code removed} event. */
    void remove(String secretId, String reason) {
        Slot s = locked(() -> slot(secretId));
        store.remove(name, secretId);
        locked(() -> {
            long now = clock.nanoTime();
            place(s, new Availability(Long.MAX_VALUE, UnavailableCause.REMOVED), now);
            addEvent(new SecretStateEvent(name, secretId, SecretStateEvent.Kind.REMOVED, Clock.toInstant(now), null,
                    reason));
        });
    }

    /** Operator or health probe: back into rotation, cooldown cleared; fires a {@code restored} event. */
    void restore(String secretId) {
        Slot s = locked(() -> slot(secretId));
        store.restore(name, secretId);
        locked(() -> {
            if (s.location == Slot.Location.GONE) {
                return;
            }
            if (s.location == Slot.Location.READY) {
                selector.remove(s);
            }
            s.waitGen++;
            s.location = Slot.Location.READY; // the store re-checks limits and leases on the next acquire
            selector.add(s);
            if (readyQueue != null) {
                readyQueue.requestRefill();
            }
            addEvent(new SecretStateEvent(name, secretId, SecretStateEvent.Kind.RESTORED,
                    Clock.toInstant(clock.nanoTime()), null, "restored"));
        });
    }

    void recordPastUses(String secretId, long[] times) {
        Slot s = locked(() -> slot(secretId));
        StoreCandidate candidate = locked(() -> s.candidate);
        store.recordPastUses(name, candidate, times);
        locked(() -> {
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
        });
    }

    /** One secret as this engine sees it, copied under the lock for {@link #stats()}. */
    private record StatsView(String id, String maskedValue, StoreCandidate candidate, List<LimitConfig> limits,
                             long successes, long failures, int consecutiveFailures,
                             dev.proxymanager.middleware.config.QuotaGroup group, StoreCandidate allRoutes,
                             List<Slot.Route> routes) {
    }

    List<SecretStats> stats() {
        long now = clock.nanoTime();
        LeaseTerms[] leaseTerms = new LeaseTerms[1];
        List<StatsView> views = locked(() -> {
            leaseTerms[0] = terms;
            List<StatsView> out = new ArrayList<>(slots.size());
            for (Slot s : slots.values()) {
                out.add(new StatsView(s.id, s.maskedValue, s.candidate, s.limits, s.health.successes(),
                        s.health.failures(), s.health.consecutiveFailures(), s.group, s.candidate(s.routeMask),
                        List.of(s.routes)));
            }
            return out;
        });
        List<SecretStats> out = new ArrayList<>(views.size());
        for (StatsView view : views) {
            SecretUsage u = store.usage(name, view.candidate(), leaseTerms[0], now);
            List<SecretStats.RouteUsage> routes = new ArrayList<>();
            if (!view.routes().isEmpty()) {
                // counts of every bucket; the secret's state stays that of a call in none (u)
                SecretUsage every = store.usage(name, view.allRoutes(), leaseTerms[0], now);
                List<Integer> all = every.usesPerLimit();
                int at = view.limits().size();
                for (Slot.Route r : view.routes()) {
                    List<SecretStats.WindowUsage> rw = new ArrayList<>();
                    for (LimitConfig l : r.limits) {
                        rw.add(new SecretStats.WindowUsage(l, at < all.size() ? all.get(at) : 0));
                        at++;
                    }
                    routes.add(new SecretStats.RouteUsage(r.match.canonical(), rw,
                            quotaView(every.routeUpstream().get(r.candidate.secretId()))));
                }
            }
            List<SecretStats.WindowUsage> windows = new ArrayList<>();
            for (int i = 0; i < view.limits().size(); i++) {
                windows.add(new SecretStats.WindowUsage(view.limits().get(i), u.usesPerLimit().get(i)));
            }
            SecretStats.GroupUsage group = null;
            if (view.group() != null) {
                List<SecretStats.WindowUsage> shared = new ArrayList<>();
                int at = view.limits().size();
                for (int i = 0; i < view.group().limits().size() && at + i < u.usesPerLimit().size(); i++) {
                    shared.add(new SecretStats.WindowUsage(view.group().limits().get(i), u.usesPerLimit().get(at + i)));
                }
                group = new SecretStats.GroupUsage(view.group().name(), shared);
            }
            Availability a = u.availability();
            out.add(new SecretStats(name, view.id(), view.maskedValue(), windows, u.totalUses(), u.holders(),
                    view.successes(), view.failures(), view.consecutiveFailures(), a.cause(),
                    SecretStats.closestToBinding(windows, a),
                    u.cooldownUntil() > 0 ? Clock.toInstant(u.cooldownUntil()) : null,
                    a.freeAt() == Long.MAX_VALUE ? null : Clock.toInstant(Math.max(a.freeAt(), now)),
                    quotaView(u.upstream()), group, routes));
        }
        return out;
    }

    private static SecretStats.UpstreamQuotaView quotaView(UpstreamQuota q) {
        return q == null ? null : new SecretStats.UpstreamQuotaView(q.policy(), q.limit(), q.remaining(),
                Clock.toInstant(q.resetAt()), Clock.toInstant(q.learnedAt()));
    }

    int secretCount() {
        return locked(() -> slots.size());
    }

    /**
     * Gives back a lease that was never used (a dropped ready-queue entry): as {@link #giveBack}, health untouched.
     * Under the lock; the store call is made after it is released.
     */
    void releaseUnused(SecretLease lease, long now) {
        GiveBack g = prepareGiveBack(lease);
        if (g == null) {
            return;
        }
        if (pendingStoreCalls == null) {
            pendingStoreCalls = new ArrayList<>(2);
        }
        pendingStoreCalls.add(() -> giveBack(lease, g));
    }

    /** What a give-back tells the store, read under the lock. */
    private record GiveBack(Slot slot, StoreCandidate candidate, LeaseTerms terms) {
    }

    /**
     * Ends a lease with which no request went out and withdraws the uses its grant recorded
     * ({@link UsageStore#giveBack}), so they cost the secret nothing: its windows, route buckets, group, total uses
     * and the upstream's remaining get them back. Health is untouched. Only for a grant with which no request can
     * have been written: the caller decides that ({@link Outcome#unused()} against {@link Outcome#unanswered()}).
     */
    private void giveBack(SecretLease lease) {
        GiveBack g = locked(() -> prepareGiveBack(lease));
        if (g != null) {
            giveBack(lease, g);
        }
    }

    /** Under the lock: the secret's in-flight count and rank lose the grant; null when it left the configuration. */
    private GiveBack prepareGiveBack(SecretLease lease) {
        Slot s = slots.get(lease.secretId());
        if (s == null) {
            return null;
        }
        s.inFlight = Math.max(0, s.inFlight - 1); // never sent
        endRouteCalls(s, lease.routes());
        s.rank -= lease.units(); // least-used orders it by its count without the withdrawn uses
        return new GiveBack(s, s.candidate(lease.routes()), terms);
    }

    private void giveBack(SecretLease lease, GiveBack g) {
        Slot s = g.slot();
        long now = clock.nanoTime();
        Availability a;
        try {
            a = store.giveBack(name, g.candidate(), g.terms(), lease.leaseId(), lease.acquiredAtNanos(), now,
                    lease.units());
        } catch (RuntimeException e) {
            LOG.warn("usage store failed giving back an unused grant of {} of endpoint {}; its use stays counted and "
                    + "its lease lapses by TTL", s.id, name, e);
            return;
        }
        locked(() -> {
            if (a.freeAt() <= now) {
                // the store answered for a call in the grant's route buckets: they are not full now
                for (Slot.Route r : s.routes) {
                    if ((lease.routes() & (1L << r.bucket)) != 0) {
                        r.fullUntil = 0;
                    }
                }
                if (lease.units() > 1) {
                    s.heavyFullUntil = 0; // a weighted call may fit again
                }
            }
            if (!(s.location == Slot.Location.READY && a.freeAt() <= now)) {
                place(s, g.candidate(), a, now, 1);
            }
            if (readyQueue != null && readyQueue.wantsMore()) {
                readyQueue.requestRefill(); // a lease slot or a window's slot freed up
            }
        });
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
        locked(() -> {
            if (readyQueue != null) {
                readyQueue.close(clock.nanoTime());
                readyQueue = null;
            }
        });
    }

    /** How many secrets the ready queue holds now; 0 without one. */
    int prefetched() {
        return locked(() -> readyQueue == null ? 0 : readyQueue.size());
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
