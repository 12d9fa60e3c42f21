package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.lease.LeaseTable;
import dev.proxymanager.middleware.limit.SlidingWindowLog;
import dev.proxymanager.middleware.quota.UpstreamQuota;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link UsageStore} in this process's memory: exact, fast, and lost on restart (rebuild windows with
 * {@link #recordPastUses}). Each endpoint has its own lock, so endpoints do not contend.
 * This class is threadsafe.
 */
public final class InMemoryUsageStore implements UsageStore {

    private final ConcurrentHashMap<String, EndpointRecords> endpoints = new ConcurrentHashMap<>();

    /** An empty store. */
    public InMemoryUsageStore() {
    }

    private static final class EndpointRecords {
        final Map<String, SecretRecord> secrets = new HashMap<>();

        SecretRecord get(String id) {
            return secrets.computeIfAbsent(id, k -> new SecretRecord());
        }
    }

    private static final class SecretRecord {
        SlidingWindowLog log = new SlidingWindowLog(0);
        long totalUses;
        final LeaseTable leases = new LeaseTable();
        long cooldownUntil;
        boolean removed;
        /** The upstream's last report, its remaining lowered by each grant since; null when none holds. */
        UpstreamQuota upstream;

        /** Until when the upstream's quota blocks this secret at {@code now}; 0 when it does not. */
        long upstreamBlockedUntil(long now) {
            UpstreamQuota q = upstream;
            return q != null && q.liveAt(now) && q.remaining() == 0 ? q.resetAt() : 0;
        }

        void fit(StoreCandidate c) {
            int cap = c.logCapacity();
            if (log.capacity() != cap) {
                log.resize(cap); // limits changed at run time: keep the newest uses
            }
        }
    }

    private EndpointRecords endpoint(String name) {
        return endpoints.computeIfAbsent(name, k -> new EndpointRecords());
    }

    @Override
    public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                 String leaseId, long now) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            List<Availability> examined = new ArrayList<>(Math.min(count, 4));
            for (int i = 0; i < count; i++) {
                StoreCandidate c = candidates[i];
                SecretRecord r = ep.get(c.secretId());
                r.fit(c);
                SecretRecord g = group(ep, c);
                Availability a = check(r, g, c, terms, now);
                if (a.cause() != UnavailableCause.READY) {
                    examined.add(a);
                    continue;
                }
                r.log.record(now);
                r.totalUses++;
                if (g != null) {
                    g.log.record(now);
                    g.totalUses++;
                }
                if (r.upstream != null && r.upstream.liveAt(now)) {
                    r.upstream = r.upstream.minus(1);
                }
                if (terms.leased()) {
                    r.leases.add(leaseId, Clock.plus(now, terms.ttlNanos()));
                }
                long cap = 0;
                List<UsageLimit> limits = c.limits();
                for (int j = 0; j < limits.size(); j++) {
                    UsageLimit l = limits.get(j);
                    if (l.cooldownNanos() > 0 && r.log.reached(l.requests(), l.spacingNanos(), now)) {
                        cap = Math.max(cap, Clock.plus(now, l.cooldownNanos()));
                    }
                }
                if (cap > r.cooldownUntil) {
                    r.cooldownUntil = cap;
                }
                examined.add(check(r, g, c, terms, now));
                return new StoreDecision(i, examined, cap);
            }
            return new StoreDecision(-1, examined, 0);
        }
    }

    /** The record of {@code c}'s group, fitted to its limits; {@code null} when not in one. */
    private static SecretRecord group(EndpointRecords ep, StoreCandidate c) {
        if (c.group() == null) {
            return null;
        }
        SecretRecord g = ep.get(c.group().secretId());
        g.fit(c.group());
        return g;
    }

    private static Availability check(SecretRecord r, SecretRecord g, StoreCandidate c, LeaseTerms terms, long now) {
        Availability limits = limitsOnly(r, g, c, now);
        int limit = limits.cause() == UnavailableCause.AT_LIMIT ? limits.limit() : -1;
        boolean leasesFull = terms.leased() && r.leases.holders(now) >= terms.maxHolders();
        return Availability.decide(now, r.removed, Math.max(r.cooldownUntil, r.upstreamBlockedUntil(now)),
                limits.freeAt(), limit, leasesFull,
                leasesFull ? r.leases.earliestExpiry() : 0);
    }

    @Override
    public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                long cooldownUntil, boolean remove) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            if (leaseId != null) {
                r.leases.remove(leaseId);
            }
            if (cooldownUntil > r.cooldownUntil) {
                r.cooldownUntil = cooldownUntil;
            }
            if (remove) {
                r.removed = true;
            }
            return check(r, group(ep, secret), secret, terms, now);
        }
    }

    @Override
    public void recordQuota(String endpoint, String secretId, UpstreamQuota quota, long now) {
        if (!quota.liveAt(now)) {
            return;
        }
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secretId);
            r.upstream = r.upstream == null ? quota : r.upstream.merge(quota, now);
        }
    }

    @Override
    public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            SecretRecord g = group(ep, secret);
            boolean had = r.log.remove(usedAt);
            boolean groupHad = g != null && g.log.remove(usedAt); // the group's copy of the use moves with it
            Availability a = limitsOnly(r, g, secret, now);
            if (a.cause() == UnavailableCause.READY) {
                r.log.record(now);
                if (g != null) {
                    g.log.record(now);
                }
            } else {
                if (had) {
                    r.log.record(usedAt);
                }
                if (groupHad) {
                    g.log.record(usedAt);
                }
            }
            return a;
        }
    }

    /**
     * When every limit of {@code c} and of its group ({@code g}'s log, null when none) admits a use, and the one that
     * frees last: the limits' part of the rule.
     */
    private static Availability limitsOnly(SecretRecord r, SecretRecord g, StoreCandidate c, long now) {
        long limitsFreeAt = now;
        int limit = -1; // no limit reached
        List<UsageLimit> limits = c.limits();
        for (int j = 0; j < limits.size(); j++) {
            UsageLimit l = limits.get(j);
            long f = r.log.freeAt(l.requests(), l.spacingNanos(), now);
            if (f > limitsFreeAt) {
                limitsFreeAt = f;
                limit = j;
            }
        }
        if (g != null) {
            List<UsageLimit> shared = c.group().limits();
            for (int j = 0; j < shared.size(); j++) {
                UsageLimit l = shared.get(j);
                long f = g.log.freeAt(l.requests(), l.spacingNanos(), now);
                if (f > limitsFreeAt) {
                    limitsFreeAt = f;
                    limit = limits.size() + j;
                }
            }
        }
        return Availability.decide(now, false, 0, limitsFreeAt, limit, false, 0);
    }

    @Override
    public void restore(String endpoint, String secretId) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secretId);
            r.removed = false;
            r.cooldownUntil = 0;
        }
    }

    @Override
    public void remove(String endpoint, String secretId) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            ep.get(secretId).removed = true;
        }
    }

    @Override
    public void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            r.log.recordAll(useTimes.clone());
            r.totalUses += useTimes.length;
        }
    }

    @Override
    public SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            List<Integer> counts = new ArrayList<>();
            for (UsageLimit l : secret.limits()) {
                counts.add(r.log.countInWindow(l.spacingNanos(), now));
            }
            SecretRecord g = group(ep, secret);
            if (g != null) {
                for (UsageLimit l : secret.group().limits()) {
                    counts.add(g.log.countInWindow(l.spacingNanos(), now));
                }
            }
            int holders = terms.leased() ? r.leases.holders(now) : 0;
            long cooldown = Math.max(r.cooldownUntil, r.upstreamBlockedUntil(now)); // as the Redis store reports it
            return new SecretUsage(counts, r.totalUses, holders, cooldown > now ? cooldown : 0,
                    r.removed, check(r, group(ep, secret), secret, terms, now),
                    r.upstream != null && r.upstream.liveAt(now) ? r.upstream : null);
        }
    }

    @Override
    public void forget(String endpoint, String secretId) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            ep.secrets.remove(secretId);
        }
    }

    @Override
    public String toString() {
        return "InMemoryUsageStore[endpoints=" + endpoints.keySet() + "]";
    }
}
