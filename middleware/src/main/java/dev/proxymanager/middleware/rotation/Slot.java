package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.QuotaGroup;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.HealthRecord;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.UsageLimit;

import java.util.ArrayList;
import java.util.List;

/** The engine's local view of one secret. Guarded by its endpoint's lock. */
final class Slot {

    /** Where the slot sits in the engine's structures. */
    enum Location { READY, WAITING, ELSEWHERE, REMOVED, GONE }

    final String id;
    String maskedValue;
    String value;
    List<LimitConfig> limits;
    QuotaGroup group; // the quota group it belongs to, or null
    StoreCandidate candidate;
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

    Slot(SecretConfig config, List<LimitConfig> endpointLimits, QuotaGroup group, LimitMargin margin,
         int windowFailures) {
        this.id = config.id();
        this.health = new HealthRecord(windowFailures);
        update(config, endpointLimits, group, margin);
    }

    void update(SecretConfig config, List<LimitConfig> endpointLimits, QuotaGroup group, LimitMargin margin) {
        this.value = config.value();
        this.maskedValue = config.maskedValue();
        List<LimitConfig> all = new ArrayList<>(endpointLimits);
        all.addAll(config.limits());
        this.limits = List.copyOf(all);
        this.group = group;
        StoreCandidate shared = group == null ? null : new StoreCandidate(group.storeId(),
                group.limits().stream().map(l -> UsageLimit.of(l, margin)).toList());
        this.candidate = new StoreCandidate(id, all.stream().map(l -> UsageLimit.of(l, margin)).toList(), shared);
        this.restampAfterNanos = restampAfter(candidate);
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
     * Half the smallest guard band of the secret's limits and its group's: a use that waits longer than that between
     * its grant and its write is re-stamped, so at least half the band is left for the network and clock
     * differences. Never for a secret without limits.
     */
    static long restampAfter(StoreCandidate candidate) {
        long after = Long.MAX_VALUE;
        for (UsageLimit l : candidate.limits()) {
            after = Math.min(after, l.marginNanos() / 2);
        }
        if (candidate.group() != null) {
            for (UsageLimit l : candidate.group().limits()) {
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
