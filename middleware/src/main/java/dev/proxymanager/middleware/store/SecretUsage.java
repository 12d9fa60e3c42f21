package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.quota.UpstreamQuota;

import java.util.List;
import java.util.Map;

/**
 * What the store knows about one secret at one moment, for stats. Immutable and threadsafe.
 *
 * @param usesPerLimit uses in the current window of each limit, in the candidate's limit order, then of each of
 *                     its group's limits (the group's uses, all members together)
 * @param totalUses uses recorded since the store started (or the secret was added)
 * @param holders current unexpired leases
 * @param cooldownUntil end of the current cooldown, or 0 when not cooling down
 * @param removed whether the secret is out of rotation
 * @param availability when it can next be granted and why not now
 * @param upstream what the upstream last reported about the secret's quota while it holds (its {@code remaining}
 *                 is the store's estimate: the report less the uses granted since), or {@code null}
 * @param routeUpstream what the upstream last reported about each of the candidate's route buckets while it holds,
 *                      by the bucket's id ({@link StoreCandidate#secretId()} of the route); buckets without a live
 *                      report are absent
 */
public record SecretUsage(List<Integer> usesPerLimit, long totalUses, int holders, long cooldownUntil,
                          boolean removed, Availability availability, UpstreamQuota upstream,
                          Map<String, UpstreamQuota> routeUpstream) {
    public SecretUsage {
        usesPerLimit = List.copyOf(usesPerLimit);
        routeUpstream = routeUpstream == null ? Map.of() : Map.copyOf(routeUpstream);
    }

    /** Without route buckets' upstream reports. */
    public SecretUsage(List<Integer> usesPerLimit, long totalUses, int holders, long cooldownUntil, boolean removed,
                       Availability availability, UpstreamQuota upstream) {
        this(usesPerLimit, totalUses, holders, cooldownUntil, removed, availability, upstream, Map.of());
    }

    /** Without an upstream report. */
    public SecretUsage(List<Integer> usesPerLimit, long totalUses, int holders, long cooldownUntil, boolean removed,
                       Availability availability) {
        this(usesPerLimit, totalUses, holders, cooldownUntil, removed, availability, null, Map.of());
    }
}
