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

        /** A grant of {@code units} takes them off the upstream's last report while it holds. */
        void countDownUpstream(int units, long now) {
            if (upstream != null && upstream.liveAt(now)) {
                upstream = upstream.minus(units);
            }
        }

        /** Returns {@code units} a grant at {@code usedAt} took off the upstream's report, when it was counted down. */
        void giveBackUpstream(int units, long usedAt, long now) {
            // a report learned after the grant was not counted down by it
            if (upstream != null && upstream.liveAt(now) && upstream.learnedAt() <= usedAt) {
                upstream = upstream.plus(units);
            }
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
                                 String leaseId, long now, int units) {
        checkUnits(units);
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            List<Availability> examined = new ArrayList<>(Math.min(count, 4));
            for (int i = 0; i < count; i++) {
                StoreCandidate c = candidates[i];
                SecretRecord r = ep.get(c.secretId());
                r.fit(c);
                SecretRecord[] shared = shares(ep, c);
                Availability a = check(r, shared, c, terms, now, units);
                if (a.cause() != UnavailableCause.READY) {
                    examined.add(a);
                    continue;
                }
                for (int u = 0; u < units; u++) {
                    r.log.record(now);
                    for (SecretRecord s : shared) {
                        s.log.record(now);
                    }
                }
                r.totalUses += units;
                for (SecretRecord s : shared) {
                    s.totalUses += units;
                }
                r.countDownUpstream(units, now);
                for (int k = 0; k < c.routes().size(); k++) {
                    shared[k].countDownUpstream(units, now);
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
                examined.add(check(r, shared, c, terms, now, 1));
                return new StoreDecision(i, examined, cap);
            }
            return new StoreDecision(-1, examined, 0);
        }
    }

    private static void checkUnits(int units) {
        if (units < 1) {
            throw new IllegalArgumentException("units must be >= 1, was " + units);
        }
    }

    private static final SecretRecord[] NO_SHARES = new SecretRecord[0];

    /** The records of {@code c}'s route buckets and group, fitted to their limits, in {@code shares()} order. */
    private static SecretRecord[] shares(EndpointRecords ep, StoreCandidate c) {
        List<StoreCandidate> shares = c.shares();
        if (shares.isEmpty()) {
            return NO_SHARES;
        }
        SecretRecord[] records = new SecretRecord[shares.size()];
        for (int k = 0; k < records.length; k++) {
            StoreCandidate s = shares.get(k);
            records[k] = ep.get(s.secretId());
            records[k].fit(s);
        }
        return records;
    }

    private static Availability check(SecretRecord r, SecretRecord[] shared, StoreCandidate c, LeaseTerms terms,
                                      long now, int units) {
        Availability limits = limitsOnly(r, shared, c, now, units);
        long limitsFreeAt = limits.freeAt();
        int limit = limits.cause() == UnavailableCause.AT_LIMIT ? limits.limit() : -1;
        // a route bucket's upstream report at 0 binds as a full window of that bucket: only its calls wait
        int index = c.limits().size();
        List<StoreCandidate> routes = c.routes();
        for (int k = 0; k < routes.size(); k++) {
            // a bucket without limits has none to name: its report only shows in stats
            long until = routes.get(k).limits().isEmpty() ? 0 : shared[k].upstreamBlockedUntil(now);
            if (until > limitsFreeAt) {
                limitsFreeAt = until;
                limit = index;
            }
            index += routes.get(k).limits().size();
        }
        boolean leasesFull = terms.leased() && r.leases.holders(now) >= terms.maxHolders();
        return Availability.decide(now, r.removed, Math.max(r.cooldownUntil, r.upstreamBlockedUntil(now)),
                limitsFreeAt, limit, leasesFull,
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
            return check(r, shares(ep, secret), secret, terms, now, 1);
        }
    }

    @Override
    public Availability giveBack(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId,
                                 long usedAt, long now, int units) {
        checkUnits(units);
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            if (terms.leased() && leaseId != null) {
                r.leases.remove(leaseId);
            }
            SecretRecord[] shared = shares(ep, secret);
            removeUses(r, usedAt, units);
            r.totalUses = Math.max(0, r.totalUses - units);
            for (SecretRecord s : shared) {
                removeUses(s, usedAt, units);
                s.totalUses = Math.max(0, s.totalUses - units);
            }
            r.giveBackUpstream(units, usedAt, now);
            for (int k = 0; k < secret.routes().size(); k++) {
                shared[k].giveBackUpstream(units, usedAt, now);
            }
            return check(r, shared, secret, terms, now, 1);
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
    public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now,
                                int units) {
        checkUnits(units);
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            SecretRecord[] shared = shares(ep, secret);
            // the grant's copies of the use in every log move together
            int had = removeUses(r, usedAt, units);
            int[] sharedHad = new int[shared.length];
            for (int k = 0; k < shared.length; k++) {
                sharedHad[k] = removeUses(shared[k], usedAt, units);
            }
            Availability a = limitsOnly(r, shared, secret, now, units);
            boolean moves = a.cause() == UnavailableCause.READY;
            long at = moves ? now : usedAt;
            for (int u = 0; u < (moves ? units : had); u++) {
                r.log.record(at);
            }
            for (int k = 0; k < shared.length; k++) {
                for (int u = 0; u < (moves ? units : sharedHad[k]); u++) {
                    shared[k].log.record(at);
                }
            }
            return a;
        }
    }

    /** Removes up to {@code units} uses at exactly {@code time} from a log; how many it held. */
    private static int removeUses(SecretRecord r, long time, int units) {
        int removed = 0;
        while (removed < units && r.log.remove(time)) {
            removed++;
        }
        return removed;
    }

    /**
     * When every limit of {@code c}, of its route buckets and of its group (the logs in {@code shared}) admits
     * {@code units} more uses, and the one that frees last: the limits' part of the rule.
     */
    private static Availability limitsOnly(SecretRecord r, SecretRecord[] shared, StoreCandidate c, long now,
                                           int units) {
        long limitsFreeAt = now;
        int limit = -1; // no limit reached
        int index = 0;
        for (int k = -1; k < shared.length; k++) {
            SecretRecord log = k < 0 ? r : shared[k];
            List<UsageLimit> limits = k < 0 ? c.limits() : c.shares().get(k).limits();
            for (UsageLimit l : limits) {
                // units more uses fit when the (requests - units + 1)-th newest has left the window
                long f = l.requests() < units ? Long.MAX_VALUE
                        : log.log.freeAt(l.requests() - units + 1, l.spacingNanos(), now);
                if (f > limitsFreeAt) {
                    limitsFreeAt = f;
                    limit = index;
                }
                index++;
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
            for (SecretRecord s : shares(ep, secret)) {
                s.log.recordAll(useTimes.clone());
                s.totalUses += useTimes.length;
            }
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
            SecretRecord[] shared = shares(ep, secret);
            for (int k = 0; k < shared.length; k++) {
                for (UsageLimit l : secret.shares().get(k).limits()) {
                    counts.add(shared[k].log.countInWindow(l.spacingNanos(), now));
                }
            }
            int holders = terms.leased() ? r.leases.holders(now) : 0;
            long cooldown = Math.max(r.cooldownUntil, r.upstreamBlockedUntil(now)); // as the Redis store reports it
            Map<String, UpstreamQuota> routeUpstream = new HashMap<>();
            for (int k = 0; k < secret.routes().size(); k++) {
                UpstreamQuota q = shared[k].upstream;
                if (q != null && q.liveAt(now)) {
                    routeUpstream.put(secret.routes().get(k).secretId(), q);
                }
            }
            return new SecretUsage(counts, r.totalUses, holders, cooldown > now ? cooldown : 0,
                    r.removed, check(r, shared, secret, terms, now, 1),
                    r.upstream != null && r.upstream.liveAt(now) ? r.upstream : null, routeUpstream);
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
