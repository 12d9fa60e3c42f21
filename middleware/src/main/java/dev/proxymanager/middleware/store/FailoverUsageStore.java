package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.quota.UpstreamQuota;

import dev.proxymanager.middleware.backend.BackendGate;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.transport.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The project's one usage-store failure policy. Wraps a networked {@link UsageStore} (Redis) so an outage never
 * turns into exceptions on the hot path, and an error that is not an outage never turns limits off.
 * When the primary throws {@link UsageStoreUnavailableException}, the store goes down and, per {@link Mode}:
 * <ul>
 *   <li>{@link Mode#FAIL_OPEN} (default, "service over strictness"): calls are served by a local
 *       {@link InMemoryUsageStore}, so limits hold per process only; state {@link State#DEGRADED};</li>
 *   <li>{@link Mode#FAIL_CLOSED}: nothing is granted; every candidate reads {@link Availability#UNAVAILABLE} until
 *       the next probe; state {@link State#UNAVAILABLE}.</li>
 * </ul>
 * Each transition is logged once (WARN when going down, INFO on recovery) and counted in {@link #status()}.
 * While down, a {@link BackendGate} lets at most one call per probe interval (default 1 s) — a request or
 * {@link #probe()} — run the health check and, when it passes, try the primary again; so the store is back at most
 * one probe interval plus one check after the primary answers again.
 *
 * <p>Any other error of the primary (a Lua script error, an unreadable reply) is not an outage: the call fails with
 * {@link UsageStoreFailedException}, in either mode — never local counting, never a grant without limit checks. It
 * is logged at ERROR, counted in {@link Status#faults()}, and {@link Status#ready()} is false until the primary
 * answers a call again. Leases granted locally during an outage are released locally. Operator actions
 * (remove, restore, past uses, forget) during an outage apply to the local store only.
 *
 * <p>This class is threadsafe.
 */
public final class FailoverUsageStore implements UsageStore {

    private static final Logger LOG = LoggerFactory.getLogger(FailoverUsageStore.class);

    /** What to do while the primary store is unreachable. */
    public enum Mode {
        /** Count locally in each process and keep serving. */
        FAIL_OPEN,
        /** Hand out nothing until the store returns. */
        FAIL_CLOSED
    }

    /** Where calls go now. */
    public enum State {
        /** The primary store answers. */
        CONNECTED,
        /** Fail-open: the primary is down, this process counts locally. */
        DEGRADED,
        /** Fail-closed: the primary is down, nothing is granted. */
        UNAVAILABLE
    }

    /**
     * A snapshot for {@code /ready} and metrics. Immutable and threadsafe.
     *
     * @param state where calls go now
     * @param mode the configured failure mode
     * @param primary the primary store's description (credentials masked)
     * @param outages how many times the primary went down since start
     * @param fallbackCalls calls served locally (fail-open) or refused (fail-closed) because the primary was down
     * @param since when the current state began
     * @param lastError the last outage's message, or {@code null} if none yet
     * @param faults calls the primary answered with an error that is not an outage (each one failed)
     * @param failing whether the primary's last answer was such an error
     * @param lastFault the last such error's message, or {@code null} if none yet
     */
    public record Status(State state, Mode mode, String primary, long outages, long fallbackCalls, Instant since,
                         String lastError, long faults, boolean failing, String lastFault) {
        /** Whether the service can serve requests: false when fail-closed and down, or while the primary fails. */
        public boolean ready() {
            return state != State.UNAVAILABLE && !failing;
        }

        /** Whether the primary store is down (degraded or unavailable). */
        public boolean down() {
            return state != State.CONNECTED;
        }
    }

    private final UsageStore primary;
    private final UsageStore local;
    private final Mode mode;
    private final Clock clock;
    private final long probeNanos;
    private final BackendGate gate;
    private final BooleanSupplier healthCheck;
    private final Consumer<Status> listener;

    private final AtomicLong outages = new AtomicLong();
    private final AtomicLong fallbackCalls = new AtomicLong();
    private final AtomicLong faults = new AtomicLong();
    private volatile boolean failing;
    private volatile String lastFault;
    private final Set<String> localLeases = ConcurrentHashMap.newKeySet();
    private volatile State state = State.CONNECTED;
    private volatile Instant since;
    private volatile String lastError;

    private FailoverUsageStore(Builder b) {
        this.primary = b.primary;
        this.local = b.local != null ? b.local : new InMemoryUsageStore();
        this.mode = b.mode;
        this.clock = b.clock;
        this.probeNanos = b.probeInterval.toNanos();
        this.gate = new BackendGate(Backoff.constant(b.probeInterval));
        this.healthCheck = b.healthCheck;
        this.listener = b.listener;
        this.since = clock.now();
    }

    /**
     * A builder around {@code primary}.
     *
     * @throws NullPointerException if {@code primary} is null
     */
    public static Builder builder(UsageStore primary) {
        return new Builder(primary);
    }

    /** The current state, counters and last error. */
    public Status status() {
        return new Status(state, mode, primary.toString(), outages.get(), fallbackCalls.get(), since, lastError,
                faults.get(), failing, lastFault);
    }

    /**
     * Tries to recover now when down, a health check was configured and the probe interval has passed since the last
     * try (e.g. for {@code /ready} when there is no traffic); returns the status afterwards. So {@code /ready} shows
     * the primary back at most one probe interval plus one check after it answers again. Never throws.
     */
    public Status probe() {
        if (state != State.CONNECTED && healthCheck != null && gate.allowsCall(clock.nanoTime())) {
            check();
        }
        return status();
    }

    /** Runs the health check once: recovers when it passes, else the next try waits a probe interval. */
    private boolean check() {
        boolean ok;
        try {
            ok = healthCheck.getAsBoolean();
        } catch (RuntimeException e) {
            ok = false;
        }
        if (ok) {
            recovered();
        } else {
            gate.recordFailure(clock.nanoTime());
        }
        return ok;
    }

    @Override
    public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                 String leaseId, long now, int units) {
        if (tryPrimary()) {
            try {
                StoreDecision d = primary.acquire(endpoint, candidates, count, terms, leaseId, now, units);
                answered();
                return d;
            } catch (UsageStoreUnavailableException e) {
                wentDown(e);
            } catch (RuntimeException e) {
                throw fault("acquire", e);
            }
        }
        fallbackCalls.incrementAndGet();
        if (mode == Mode.FAIL_CLOSED) {
            List<Availability> examined = new ArrayList<>(count);
            Availability retry = new Availability(retryAt(now), UnavailableCause.STORE_UNAVAILABLE);
            for (int i = 0; i < count; i++) {
                examined.add(retry);
            }
            return new StoreDecision(-1, examined, 0);
        }
        StoreDecision d = local.acquire(endpoint, candidates, count, terms, leaseId, now, units);
        if (d.isGranted() && terms.leased() && leaseId != null) {
            localLeases.add(leaseId);
        }
        return d;
    }

    @Override
    public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                long cooldownUntil, boolean remove) {
        return endLease("release", leaseId, now,
                lease -> local.release(endpoint, secret, terms, lease, now, cooldownUntil, remove),
                () -> primary.release(endpoint, secret, terms, leaseId, now, cooldownUntil, remove));
    }

    /** As {@link #release}: a lease granted locally is given back locally; else to the primary while it answers. */
    @Override
    public Availability giveBack(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId,
                                 long usedAt, long now, int units) {
        return endLease("giveBack", leaseId, now,
                lease -> local.giveBack(endpoint, secret, terms, lease, usedAt, now, units),
                () -> primary.giveBack(endpoint, secret, terms, leaseId, usedAt, now, units));
    }

    /**
     * The failure policy of the calls that end a lease: a lease granted locally (during an outage) ends locally;
     * otherwise the primary while it answers; while it is down, the local store applies the outcome without a lease
     * (the primary's lease lapses after its TTL, keeping its use), and fail-closed reports the store unavailable.
     *
     * @param onLocal the call on the local store, given the lease id, or null for the primary's lease
     */
    private Availability endLease(String operation, String leaseId, long now,
                                  Function<String, Availability> onLocal,
                                  Supplier<Availability> onPrimary) {
        if (leaseId != null && localLeases.remove(leaseId)) {
            return onLocal.apply(leaseId);
        }
        if (tryPrimary()) {
            try {
                Availability a = onPrimary.get();
                answered();
                return a;
            } catch (UsageStoreUnavailableException e) {
                wentDown(e);
            } catch (RuntimeException e) {
                throw fault(operation, e);
            }
        }
        fallbackCalls.incrementAndGet();
        Availability a = onLocal.apply(null);
        return mode == Mode.FAIL_CLOSED && a.cause() != UnavailableCause.REMOVED
                ? new Availability(Math.max(a.freeAt(), retryAt(now)), UnavailableCause.STORE_UNAVAILABLE) : a;
    }

    @Override
    public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now,
                                int units) {
        if (tryPrimary()) {
            try {
                Availability a = primary.restamp(endpoint, secret, leaseId, usedAt, now, units);
                recovered();
                return a;
            } catch (UsageStoreUnavailableException e) {
                wentDown(e);
            }
        }
        fallbackCalls.incrementAndGet();
        // fail-open keeps local windows, which must see the use where it goes out; fail-closed granted it before
        // the outage and does not hold a request back for an outage
        return mode == Mode.FAIL_OPEN ? local.restamp(endpoint, secret, leaseId, usedAt, now, units)
                : new Availability(now, UnavailableCause.READY);
    }

    @Override
    public void restore(String endpoint, String secretId) {
        local.restore(endpoint, secretId);
        runOnPrimary("restore", () -> primary.restore(endpoint, secretId));
    }

    @Override
    public void remove(String endpoint, String secretId) {
        local.remove(endpoint, secretId);
        runOnPrimary("remove", () -> primary.remove(endpoint, secretId));
    }

    @Override
    public void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes) {
        local.recordPastUses(endpoint, secret, useTimes);
        runOnPrimary("recordPastUses", () -> primary.recordPastUses(endpoint, secret, useTimes));
    }

    @Override
    public SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now) {
        if (tryPrimary()) {
            try {
                SecretUsage u = primary.usage(endpoint, secret, terms, now);
                answered();
                return u;
            } catch (UsageStoreUnavailableException e) {
                wentDown(e);
            } catch (RuntimeException e) {
                throw fault("usage", e);
            }
        }
        if (mode == Mode.FAIL_CLOSED) {
            return new SecretUsage(Collections.nCopies(secret.limits().size(), 0), 0, 0, 0, false,
                    new Availability(retryAt(now), UnavailableCause.STORE_UNAVAILABLE));
        }
        return local.usage(endpoint, secret, terms, now);
    }

    /** Into the local store and, when reachable, the primary: the report holds wherever the next grant is made. */
    @Override
    public void recordQuota(String endpoint, String secretId, UpstreamQuota quota, long now) {
        local.recordQuota(endpoint, secretId, quota, now);
        if (tryPrimary()) { // not runOnPrimary: a report comes with every response, a WARN each would flood the log
            try {
                primary.recordQuota(endpoint, secretId, quota, now);
                answered();
            } catch (UsageStoreUnavailableException e) {
                wentDown(e);
            } catch (RuntimeException e) {
                throw fault("recordQuota", e);
            }
        }
    }

    @Override
    public void forget(String endpoint, String secretId) {
        local.forget(endpoint, secretId);
        runOnPrimary("forget", () -> primary.forget(endpoint, secretId));
    }

    /** The primary's sharing, also while it is down: its leases held elsewhere come back with it. */
    @Override
    public boolean sharedAcrossProcesses() {
        return primary.sharedAcrossProcesses();
    }

    /** Closes the primary and the local store. */
    @Override
    public void close() {
        try {
            primary.close();
        } finally {
            local.close();
        }
    }

    @Override
    public String toString() {
        return "FailoverUsageStore[" + primary + ", " + mode + ", " + state + "]";
    }

    private void runOnPrimary(String operation, Runnable call) {
        if (!tryPrimary()) {
            LOG.warn("usage store down: {} applied to this process only", operation);
            return;
        }
        try {
            call.run();
            answered();
        } catch (UsageStoreUnavailableException e) {
            wentDown(e);
            LOG.warn("usage store down: {} applied to this process only", operation);
        } catch (RuntimeException e) {
            throw fault(operation, e);
        }
    }

    /**
     * Whether this call should go to the primary: always when up; when down, one call per probe interval, once the
     * health check (when configured) passes — the same check as {@link #probe()}, so traffic and {@code /ready}
     * recover alike.
     */
    private boolean tryPrimary() {
        if (state == State.CONNECTED) {
            return true;
        }
        if (!gate.allowsCall(clock.nanoTime())) {
            return false;
        }
        return healthCheck == null || check();
    }

    private long retryAt(long now) {
        return Clock.plus(now, probeNanos);
    }

    /** An error that is not an outage: logged, counted, and thrown to the caller — never a fallback. */
    private UsageStoreFailedException fault(String operation, RuntimeException e) {
        faults.incrementAndGet();
        boolean first = !failing;
        failing = true;
        lastFault = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
        if (first) { // the stack once per streak: every failing call is still logged and counted
            LOG.error("usage store {} failed during {} (not an outage: no fallback, the call fails): {}", primary,
                    operation, lastFault, e);
        } else {
            LOG.error("usage store {} failed during {} (not an outage: no fallback, the call fails): {}", primary,
                    operation, lastFault);
        }
        return e instanceof UsageStoreFailedException f ? f
                : new UsageStoreFailedException("usage store " + primary + " failed during " + operation + ": "
                + lastFault, e);
    }

    private void wentDown(UsageStoreUnavailableException e) {
        lastError = e.getMessage();
        gate.recordFailure(clock.nanoTime());
        Status changed = null;
        synchronized (this) {
            if (state == State.CONNECTED) {
                state = mode == Mode.FAIL_OPEN ? State.DEGRADED : State.UNAVAILABLE;
                since = clock.now();
                outages.incrementAndGet();
                changed = status();
            }
        }
        if (changed != null) {
            if (mode == Mode.FAIL_OPEN) {
                LOG.warn("{}; fail-open: counting usage in this process only until it returns", e.getMessage());
            } else {
                LOG.warn("{}; fail-closed: no secrets are handed out until it returns", e.getMessage());
            }
            notifyListener(changed);
        }
    }

    /** The primary answered a call: no longer failing, and up again if it was down. */
    private void answered() {
        if (failing) {
            failing = false;
        }
        recovered();
    }

    private void recovered() {
        if (state == State.CONNECTED) {
            return;
        }
        Status changed = null;
        Instant downSince;
        synchronized (this) {
            if (state == State.CONNECTED) {
                return;
            }
            downSince = since;
            gate.recordSuccess();
            state = State.CONNECTED;
            since = clock.now();
            changed = status();
        }
        LOG.info("usage store {} is back after {}; shared counting resumed", primary,
                Duration.between(downSince, changed.since()));
        notifyListener(changed);
    }

    private void notifyListener(Status s) {
        if (listener != null) {
            try {
                listener.accept(s);
            } catch (RuntimeException e) {
                LOG.warn("usage store state listener failed: {}", e.toString());
            }
        }
    }

    /** Settings of a {@link FailoverUsageStore}. Not threadsafe; {@link #build()} copies them. */
    public static final class Builder {
        private final UsageStore primary;
        private UsageStore local;
        private Mode mode = Mode.FAIL_OPEN;
        private Clock clock = Clock.system();
        private Duration probeInterval = Duration.ofSeconds(1);
        private BooleanSupplier healthCheck;
        private Consumer<Status> listener;

        private Builder(UsageStore primary) {
            this.primary = Objects.requireNonNull(primary, "primary");
        }

        /** Default {@link Mode#FAIL_OPEN}. */
        public Builder withMode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** The store used while fail-open and down. Default: a new {@link InMemoryUsageStore}. */
        public Builder withLocalStore(UsageStore local) {
            this.local = Objects.requireNonNull(local, "local");
            return this;
        }

        /** Time source for probes and {@link Status#since()}. Default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How often, while down, one call tries the primary again. Default 1 second.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder withProbeInterval(Duration interval) {
            Objects.requireNonNull(interval, "probeInterval");
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("probeInterval must be > 0, was " + interval);
            }
            this.probeInterval = interval;
            return this;
        }

        /** A cheap check (e.g. Redis {@code PING}) that {@link #probe()} uses to recover without traffic. */
        public Builder withHealthCheck(BooleanSupplier check) {
            this.healthCheck = Objects.requireNonNull(check, "healthCheck");
            return this;
        }

        /** Called after every state change, outside any lock. */
        public Builder onStateChange(Consumer<Status> listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The wrapper, starting in {@link State#CONNECTED}. */
        public FailoverUsageStore build() {
            return new FailoverUsageStore(this);
        }
    }
}
