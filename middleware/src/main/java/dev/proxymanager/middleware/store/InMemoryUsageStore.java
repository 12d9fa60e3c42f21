package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.lease.LeaseTable;
import dev.proxymanager.middleware.limit.SlidingWindowLog;

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
                Availability a = check(r, c, terms, now);
                if (a.cause() != UnavailableCause.READY) {
                    examined.add(a);
                    continue;
                }
                r.log.record(now);
                r.totalUses++;
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
                examined.add(check(r, c, terms, now));
                return new StoreDecision(i, examined, cap);
            }
            return new StoreDecision(-1, examined, 0);
        }
    }

    private static Availability check(SecretRecord r, StoreCandidate c, LeaseTerms terms, long now) {
        Availability limits = limitsOnly(r, c, now);
        int limit = limits.cause() == UnavailableCause.AT_LIMIT ? limits.limit() : -1;
        boolean leasesFull = terms.leased() && r.leases.holders(now) >= terms.maxHolders();
        return Availability.decide(now, r.removed, r.cooldownUntil, limits.freeAt(), limit, leasesFull,
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
            return check(r, secret, terms, now);
        }
    }

    @Override
    public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now) {
        EndpointRecords ep = endpoint(endpoint);
        synchronized (ep) {
            SecretRecord r = ep.get(secret.secretId());
            r.fit(secret);
            boolean had = r.log.remove(usedAt);
            Availability a = limitsOnly(r, secret, now);
            if (a.cause() == UnavailableCause.READY) {
                r.log.record(now);
            } else if (had) {
                r.log.record(usedAt);
            }
            return a;
        }
    }

    /** When every limit of {@code c} admits a use, and the one that frees last: the limits' part of the rule. */
    private static Availability limitsOnly(SecretRecord r, StoreCandidate c, long now) {
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
            int holders = terms.leased() ? r.leases.holders(now) : 0;
            return new SecretUsage(counts, r.totalUses, holders, r.cooldownUntil > now ? r.cooldownUntil : 0,
                    r.removed, check(r, secret, terms, now));
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
