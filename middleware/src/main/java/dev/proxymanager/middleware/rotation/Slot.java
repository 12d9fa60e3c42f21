package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.QuotaGroup;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.HealthRecord;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.UsageLimit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The engine's local view of one secret. Guarded by its endpoint's lock. */
final class Slot {

    /** Where the slot sits in the engine's structures. */
    enum Location { READY, WAITING, ELSEWHERE, REMOVED, GONE }

    /**
     * One route bucket of the secret (its limits with one {@code match}): the bucket's log as a store candidate, and
     * until when this engine last heard it is full. A full bucket holds back only the calls that count in it.
     */
    static final class Route {
        final int bucket; // index in the endpoint's routeBuckets()
        final RouteMatch match;
        final List<LimitConfig> limits;
        final StoreCandidate candidate;
        long fullUntil; // calls counting in this bucket skip the slot until then
        LimitConfig fullLimit; // the limit the store said is full
        long upstreamUntil; // the upstream reported this bucket's quota used up until then: its calls skip the slot
        int inFlight; // grants counting in this bucket this engine has not had back (see Slot.inFlight)

        Route(int bucket, RouteMatch match, List<LimitConfig> limits, StoreCandidate candidate) {
            this.bucket = bucket;
            this.match = match;
            this.limits = limits;
            this.candidate = candidate;
        }
    }

    private static final Route[] NO_ROUTES = new Route[0];

    final String id;
    String maskedValue;
    String value;
    List<LimitConfig> limits; // the limits counting every call: the endpoint's, then its own (no match)
    QuotaGroup group; // the quota group it belongs to, or null
    Route[] routes = NO_ROUTES; // its route buckets, in bucket order
    Route[] byBucket; // indexed by the endpoint's bucket index, null where it has none; null without routes
    long routeMask; // the buckets it has
    StoreCandidate candidate; // a call in none of its route buckets
    private Map<Long, StoreCandidate> routed; // per combination of its buckets a call counts in, built once
    final HealthRecord health;

    Location location = Location.ELSEWHERE;
    int readyGen;  // bumps whenever a ready-queue entry of this slot becomes stale
    int waitGen;   // same for the waiting heap
    int readyIndex = -1; // for array-backed selectors
    long rank;     // uses granted by this engine (least-used), offset for late joiners
    Availability blockedBy; // why it is WAITING
    long waitUntil; // when WAITING: the time of its live heap entry
    long atLimitSeenAt; // when the store last said a window of it was full (0: never), for the 429 rule
    long atLimitFreeAt; // that window's next free slot
    int inFlight; // leases this engine granted and has not had back: calls the upstream may not have counted yet
    int invalidations; // bumps when an earlier grant must not be handed out any more (cooldown, removal, new limits)
    long restampAfterNanos; // a use older than this when its request is written is re-stamped
    // a weighted call's refusal: calls of at least heavyUnits in the same buckets skip the slot until heavyFullUntil
    long heavyFullUntil;
    int heavyUnits;
    long heavyRoutes;
    LimitConfig heavyLimit;

    Slot(SecretConfig config, List<LimitConfig> endpointLimits, QuotaGroup group, LimitMargin margin,
         int windowFailures, List<RouteMatch> buckets) {
        this.id = config.id();
        this.health = new HealthRecord(windowFailures);
        update(config, endpointLimits, group, margin, buckets);
    }

    void update(SecretConfig config, List<LimitConfig> endpointLimits, QuotaGroup group, LimitMargin margin,
                List<RouteMatch> buckets) {
        this.value = config.value();
        this.maskedValue = config.maskedValue();
        List<LimitConfig> all = new ArrayList<>(endpointLimits);
        all.addAll(config.limits());
        List<LimitConfig> everyCall = new ArrayList<>();
        for (LimitConfig l : all) {
            if (l.match() == null) {
                everyCall.add(l);
            }
        }
        this.limits = List.copyOf(everyCall);
        this.group = group;
        StoreCandidate shared = group == null ? null : new StoreCandidate(group.storeId(),
                group.limits().stream().map(l -> UsageLimit.of(l, margin)).toList());
        this.candidate = new StoreCandidate(id, limits.stream().map(l -> UsageLimit.of(l, margin)).toList(), shared);
        List<Route> mine = new ArrayList<>();
        for (int b = 0; b < buckets.size(); b++) {
            String canonical = buckets.get(b).canonical();
            List<LimitConfig> bucketLimits = all.stream()
                    .filter(l -> l.match() != null && l.match().canonical().equals(canonical)).toList();
            if (!bucketLimits.isEmpty()) {
                mine.add(new Route(b, buckets.get(b), bucketLimits, new StoreCandidate(routeLogId(id, canonical),
                        bucketLimits.stream().map(l -> UsageLimit.of(l, margin)).toList())));
            }
        }
        this.routes = mine.isEmpty() ? NO_ROUTES : mine.toArray(new Route[0]);
        this.byBucket = mine.isEmpty() ? null : new Route[buckets.size()];
        this.routeMask = 0;
        for (Route r : routes) {
            byBucket[r.bucket] = r;
            routeMask |= 1L << r.bucket;
        }
        this.routed = null;
        this.heavyFullUntil = 0; // decided under the old limits
        this.restampAfterNanos = restampAfter(candidate(routeMask));
    }

    /**
     * The id of a secret's log for one route bucket: stable across restarts and processes (it depends on the
     * secret's id and the bucket's canonical match only) and never a secret's or a group's id.
     */
    static String routeLogId(String secretId, String canonicalMatch) {
        return secretId + "~route:" + canonicalMatch;
    }

    /** The candidate of a call counting in the route buckets {@code mask} (those the slot has; 0: none). */
    StoreCandidate candidate(long mask) {
        long m = mask & routeMask;
        if (m == 0) {
            return candidate;
        }
        if (routed == null) {
            routed = new HashMap<>();
        }
        return routed.computeIfAbsent(m, k -> {
            List<StoreCandidate> in = new ArrayList<>();
            for (Route r : routes) {
                if ((k & (1L << r.bucket)) != 0) {
                    in.add(r.candidate);
                }
            }
            return new StoreCandidate(id, candidate.limits(), in, candidate.group());
        });
    }

    /**
     * Where limit {@code index} of candidate {@code c} sits in {@link #candidate} (own limits, then the group's), or
     * -1 when it is a route bucket's.
     */
    int baseIndex(StoreCandidate c, int index) {
        if (c == candidate || index < limits.size()) {
            return index;
        }
        int rest = index - limits.size();
        int routeLimits = 0;
        for (StoreCandidate r : c.routes()) {
            routeLimits += r.limits().size();
        }
        return rest < routeLimits ? -1 : limits.size() + rest - routeLimits;
    }

    /** The route bucket limit {@code index} of {@code c} belongs to, when it is a route bucket's; else null. */
    Route routeAt(StoreCandidate c, int index) {
        int at = limits.size();
        for (StoreCandidate rc : c.routes()) {
            if (index < at + rc.limits().size()) {
                for (Route r : routes) {
                    if (r.candidate == rc) {
                        return r;
                    }
                }
                return null;
            }
            at += rc.limits().size();
        }
        return null;
    }

    /** The configured limit at index {@code index} of {@code c} (own, routes', group's); null when out of range. */
    LimitConfig limitAt(StoreCandidate c, int index) {
        int base = baseIndex(c, index);
        if (base >= 0) {
            return limitAt(base);
        }
        Route r = routeAt(c, index);
        if (r == null) {
            return null;
        }
        int at = limits.size();
        for (StoreCandidate rc : c.routes()) {
            if (rc == r.candidate) {
                return r.limits.get(index - at);
            }
            at += rc.limits().size();
        }
        return null;
    }

    /** The limit with the fewest requests among those counting a call of candidate {@code c}; null without limits. */
    LimitConfig tightest(StoreCandidate c) {
        LimitConfig min = null;
        for (int i = 0; i < c.allLimits(); i++) {
            LimitConfig l = limitAt(c, i);
            if (l != null && (min == null || l.requests() < min.requests())) {
                min = l;
            }
        }
        return min;
    }

    /** The limit an availability's index names: one of its own, or (after them) one of its group's; else null. */
    LimitConfig limitAt(int index) {
        if (index >= 0 && index < limits.size()) {
            return limits.get(index);
        }
        int g = index - limits.size();
        return group != null && g >= 0 && g < group.limits().size() ? group.limits().get(g) : null;
    }

    /**
     * Half the smallest guard band of the secret's limits, its route buckets' and its group's: a use that waits longer
     * than that between its grant and its write is re-stamped, so at least half the band is left for the network and
     * clock differences. Never for a secret without limits.
     */
    static long restampAfter(StoreCandidate candidate) {
        long after = Long.MAX_VALUE;
        for (UsageLimit l : candidate.limits()) {
            after = Math.min(after, l.marginNanos() / 2);
        }
        for (StoreCandidate shared : candidate.shares()) {
            for (UsageLimit l : shared.limits()) {
                after = Math.min(after, l.marginNanos() / 2);
            }
        }
        return after;
    }

    @Override
    public String toString() {
        return "Slot[" + id + ", " + location + "]";
    }
}
