package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.config.HealthPolicy;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeClassifier;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.middleware.store.UsageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Decides which secret (API key or proxy) each request to an endpoint uses: never over any of its sliding-window
 * limits, never while it cools down, is removed, or its lease slots are held by others; spread by the endpoint's
 * rotation method. The {@link UsageStore} holds what processes share; health records and the ready/waiting view stay
 * here.
 *
 * <pre>{@code
 * RotationEngine engine = RotationEngine.builder().withConfig(SecretsConfig.load(path)).build();
 * switch (engine.acquire("search")) {
 *     case AcquireResult.Granted g -> {
 *         Outcome outcome = send(request, g.lease().value()); // the transport applies the key or proxy
 *         engine.release(g.lease(), outcome);
 *     }
 *     case AcquireResult.Denied d -> respond(429, d.reason(), d.retryAfter());
 * }
 * }</pre>
 *
 * <p>An endpoint with {@code prefetch} set has a ready queue (seed D's producer queue): a producer thread keeps that
 * many secrets acquired ahead of demand, and {@link #acquire(String)} hands out the most recently acquired one first;
 * see {@link dev.proxymanager.middleware.config.PrefetchConfig} for what a prefetched secret counts as. Close the
 * engine to stop the producer and release what it holds.
 *
 * <p>Cost: acquire and release are O(log n) in the number of secrets (no scan). Each endpoint has its own lock.
 * This class is threadsafe.
 */
public final class RotationEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RotationEngine.class);

    private final Clock clock;
    private final UsageStore store;
    private final SplittableRandom random;
    private final String leasePrefix;
    private final List<RotationListener> listeners;
    private final ConcurrentHashMap<String, EndpointRotation> endpoints = new ConcurrentHashMap<>();
    private final PrefetchScheduler givenScheduler;
    /** The default producer thread, started with the first endpoint that prefetches; closed with the engine. */
    private PrefetchScheduler ownScheduler;
    private boolean closed;

    private RotationEngine(Builder b) {
        this.clock = b.clock;
        this.store = b.store != null ? b.store : new InMemoryUsageStore();
        this.random = b.seed != null ? new SplittableRandom(b.seed) : new SplittableRandom();
        this.leasePrefix = HexFormat.of().toHexDigits(random.nextInt()) + "-";
        this.listeners = new CopyOnWriteArrayList<>(b.listeners);
        this.givenScheduler = b.prefetchScheduler;
        for (EndpointConfig e : b.endpoints.values()) {
            endpoints.put(e.name(), newRotation(e));
        }
    }

    private EndpointRotation newRotation(EndpointConfig e) {
        SplittableRandom r;
        synchronized (random) {
            r = random.split();
        }
        return new EndpointRotation(e, clock, store, r, leasePrefix, this::fire, this::prefetchScheduler);
    }

    /** The producer's scheduler, or {@code null} once the engine is closed (no more prefetching). */
    private synchronized PrefetchScheduler prefetchScheduler() {
        if (closed) {
            return null;
        }
        if (givenScheduler != null) {
            return givenScheduler;
        }
        if (ownScheduler == null) {
            ownScheduler = PrefetchScheduler.singleThread("proxy-manager-prefetch");
        }
        return ownScheduler;
    }

    /** A builder; see its methods for defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Hands out a secret of {@code endpoint}, or says why none can be used now and when one frees up.
     * Never throws for "nothing available".
     *
     * @throws IllegalArgumentException if the endpoint is unknown (the message lists the known ones)
     */
    public AcquireResult acquire(String endpoint) {
        return rotation(endpoint).acquire();
    }

    /**
     * As {@link #acquire(String)}, but hands out secret {@code preferredSecretId} when it is usable now — under its
     * limits, not cooling down, a lease slot free — so a session can stay on one secret; otherwise the rotation
     * method picks as usual. An unknown id is ignored.
     *
     * @throws IllegalArgumentException if the endpoint is unknown (the message lists the known ones)
     */
    public AcquireResult acquire(String endpoint, String preferredSecretId) {
        return rotation(endpoint).acquire(preferredSecretId);
    }

    /**
     * As {@link #acquire(String, String)} for a call of {@code route}: the grant counts {@code route}'s cost (the
     * endpoint's {@code costs} unless the call gives one) in every limit that counts the call — the secret's, its
     * route buckets' (limits whose {@code match} the call meets) and its group's — atomically in the store. A secret
     * whose bucket for this call is full is passed over for this call only. Calls in no route bucket at cost 1 take
     * the path of {@link #acquire(String, String)} (and the ready queue).
     *
     * @param preferredSecretId a secret to stay on when usable, or {@code null}
     * @throws CostTooLargeException when the cost is larger than a limit counting the call, so no secret could ever
     *                               be granted for it (thrown before any store call)
     * @throws IllegalArgumentException if the endpoint is unknown (the message lists the known ones)
     */
    public AcquireResult acquire(String endpoint, String preferredSecretId, CallRoute route) {
        return rotation(endpoint).acquire(preferredSecretId, Objects.requireNonNull(route, "route"));
    }

    /**
     * Whether {@code lease} was granted as a call of {@code route} would be: in the same route buckets, at the same
     * cost (a secret handed out before its call was known may not be).
     */
    public boolean countsAs(SecretLease lease, CallRoute route) {
        EndpointRotation r = endpoints.get(lease.endpoint());
        return r != null && r.countsAs(lease, route);
    }

    /**
     * Returns a lease and reports what happened with it; the outcome feeds the secret's health (cooldowns, bans,
     * removal) and the store ends the lease in the same call. Releasing twice, or after the lease's TTL, is harmless.
     * Leases of secrets or endpoints removed from the configuration since are ignored.
     *
     * @return what the outcome was, as {@link OutcomeClassifier} decided it knowing the secret's windows (a 429 at a
     *         limit is {@link OutcomeKind#RATE_LIMITED}, not a ban): what request logs and metrics should report; for
     *         an endpoint no longer configured, under the default health policy
     */
    public OutcomeKind release(SecretLease lease, Outcome outcome) {
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(outcome, "outcome");
        EndpointRotation r = endpoints.get(lease.endpoint());
        if (r == null) {
            return OutcomeClassifier.classify(outcome, HealthPolicy.DEFAULT);
        }
        return r.release(lease, outcome);
    }

    /**
     * Called just before the request of {@code lease} is written, with the time its use is recorded at
     * ({@code usedAt}: the grant, or an earlier re-stamp). The upstream counts a request when it arrives; a use
     * recorded long before would let the grant that takes its slot arrive less than a window after it. So when the
     * use is older than half its limits' guard band ({@code limit_margin}), the store moves it to now if every limit
     * admits it there. Never throws: a store failure sends the use as granted.
     *
     * @return {@link Availability#FREE} with the time the use is now recorded at (its {@code freeAt}); or, when no
     *         limit admits it now, when to try again (the use stays where it was meanwhile)
     */
    public Availability restampUse(SecretLease lease, long usedAt) {
        Objects.requireNonNull(lease, "lease");
        EndpointRotation r = endpoints.get(lease.endpoint());
        if (r == null) {
            return new Availability(usedAt, UnavailableCause.READY);
        }
        return r.restamp(lease, usedAt);
    }

    /**
     * Adds an endpoint, or replaces its secrets, limits and rotation settings in place: secrets that remain keep
     * their window counts, leases, cooldowns and health; removed ones are forgotten (a {@code removed} event each);
     * new ones join at once.
     */
    public void updateEndpoint(EndpointConfig config) {
        Objects.requireNonNull(config, "config");
        EndpointRotation[] existing = new EndpointRotation[1];
        endpoints.compute(config.name(), (name, current) -> {
            existing[0] = current;
            return current != null ? current : newRotation(config);
        });
        if (existing[0] != null) {
            existing[0].reconfigure(config); // fires its events once its lock is released, outside the map
        }
    }

    /**
     * Drops endpoint {@code name} (no-op when unknown): its leases lapse, and the store keeps its state — a shared
     * store's keys expire by themselves; call {@link UsageStore#forget} to free a private store's.
     */
    public void removeEndpoint(String name) {
        EndpointRotation r = endpoints.remove(Objects.requireNonNull(name, "name"));
        if (r != null) {
            r.close();
        }
    }

    /** Applies a whole new configuration: endpoints are updated as by {@link #updateEndpoint}, missing ones dropped. */
    public void reconfigure(SecretsConfig config) {
        for (EndpointConfig e : config.endpoints().values()) {
            updateEndpoint(e);
        }
        endpoints.entrySet().removeIf(e -> {
            if (config.endpoints().containsKey(e.getKey())) {
                return false;
            }
            e.getValue().close();
            return true;
        });
    }

    /**
     * How many quota header values of {@code endpoint}'s responses were malformed and ignored since start.
     *
     * @throws IllegalArgumentException for an unknown endpoint
     */
    public long malformedQuotaHeaders(String endpoint) {
        return rotation(endpoint).malformedQuotaHeaders();
    }

    /**
     * How many secrets the ready queue of {@code endpoint} holds now (0 when it does not prefetch). Each is leased and
     * counted as a use.
     */
    public int prefetched(String endpoint) {
        return rotation(endpoint).prefetched();
    }

    /**
     * Stops the producer of the ready queues and gives back every secret they hold (lease ended, use
     * withdrawn: none was sent). Acquire
     * and release keep working, without prefetching. A scheduler passed to the builder is the caller's to close.
     * Closing twice is harmless.
     */
    @Override
    public void close() {
        PrefetchScheduler own;
        synchronized (this) {
            closed = true;
            own = ownScheduler;
        }
        for (EndpointRotation r : endpoints.values()) {
            r.close();
        }
        if (own != null) {
            own.close();
        }
    }

    /**
     * Per secret of {@code endpoint}, the remaining quota the upstream last reported to this process while its window
     * holds ({@code null}: none); from memory, no store call (for metrics).
     */
    public Map<String, Long> reportedRemaining(String endpoint) {
        return rotation(endpoint).reportedRemaining();
    }

    /** Stats of every secret of {@code endpoint}, in configuration order. Scans the endpoint: not for the hot path. */
    public List<SecretStats> stats(String endpoint) {
        return rotation(endpoint).stats();
    }

    /**
     * Adds past uses of a secret (e.g. from the request log after a restart) so its open windows count them.
     *
     * @throws IllegalArgumentException for an unknown endpoint or secret id
     */
    public void restoreUsage(String endpoint, String secretId, List<Instant> pastUses) {
        long[] times = new long[pastUses.size()];
        for (int i = 0; i < times.length; i++) {
            times[i] = Clock.toNanos(pastUses.get(i));
        }
        rotation(endpoint).recordPastUses(secretId, times);
    }

    /** Takes a secret out of rotation until {@link #restoreSecret}; fires a {@code removed} event. */
    public void removeSecret(String endpoint, String secretId, String reason) {
        rotation(endpoint).remove(secretId, reason);
    }

    /** Puts a removed or cooling-down secret back into rotation; fires a {@code restored} event. */
    public void restoreSecret(String endpoint, String secretId) {
        rotation(endpoint).restore(secretId);
    }

    /** Adds a listener for secrets' state changes. */
    public void addListener(RotationListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * How many secrets {@code endpoint} has (removed ones included). A batch caller sizes its concurrency with it:
     * with exclusive leases, more workers than secrets only wait (seed B reduces concurrency, with a warning).
     */
    public int secretCount(String endpoint) {
        return rotation(endpoint).secretCount();
    }

    /** The configured endpoint names. */
    public Set<String> endpoints() {
        return Set.copyOf(endpoints.keySet());
    }

    /** The current configuration of {@code endpoint}. */
    public EndpointConfig endpoint(String endpoint) {
        return rotation(endpoint).config();
    }

    /** The clock this engine reads. */
    public Clock clock() {
        return clock;
    }

    /** The store this engine uses. */
    public UsageStore store() {
        return store;
    }

    private EndpointRotation rotation(String endpoint) {
        EndpointRotation r = endpoints.get(endpoint);
        if (r == null) {
            throw new IllegalArgumentException("no endpoint named '" + endpoint + "'; known endpoints: "
                    + new java.util.TreeSet<>(endpoints.keySet()));
        }
        return r;
    }

    void fire(List<SecretStateEvent> events) {
        for (SecretStateEvent e : events) {
            LOG.info("secret {} of endpoint {}: {} until {} ({})", e.secretId(), e.endpoint(), e.kind().logName(),
                    e.until(), e.reason());
            for (RotationListener l : listeners) {
                try {
                    l.onStateChange(e);
                } catch (RuntimeException ex) {
                    LOG.warn("rotation listener {} failed on {}", l, e.kind().logName(), ex);
                }
            }
        }
    }

    /** Builds a {@link RotationEngine}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private Clock clock = Clock.system();
        private UsageStore store;
        private Long seed;
        private PrefetchScheduler prefetchScheduler;
        private final List<RotationListener> listeners = new ArrayList<>();
        private final Map<String, EndpointConfig> endpoints = new LinkedHashMap<>();

        private Builder() {
        }

        /** Default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Default: a new {@link InMemoryUsageStore}. */
        public Builder withStore(UsageStore store) {
            this.store = Objects.requireNonNull(store, "store");
            return this;
        }

        /** Seeds jitter and Thompson sampling, for reproducible tests; default: a random seed. */
        public Builder withRandomSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Adds a state-change listener. */
        public Builder onStateChange(RotationListener listener) {
            this.listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Adds (or replaces) an endpoint. */
        public Builder withEndpoint(EndpointConfig endpoint) {
            this.endpoints.put(endpoint.name(), endpoint);
            return this;
        }

        /**
         * Adds every endpoint of a secrets configuration. Its store mode (fail-open or fail-closed) belongs to the
         * store: see {@link dev.proxymanager.middleware.store.UsageStores#create}.
         */
        public Builder withConfig(SecretsConfig config) {
            config.endpoints().values().forEach(this::withEndpoint);
            return this;
        }

        /**
         * Where the producer of endpoints with {@code prefetch} runs. Default: one daemon thread
         * ({@link PrefetchScheduler#singleThread}), started with the first such endpoint and stopped by
         * {@link RotationEngine#close()}; a scheduler given here is not closed by the engine.
         */
        public Builder withPrefetchScheduler(PrefetchScheduler scheduler) {
            this.prefetchScheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Builds the engine; the builder's settings are copied. */
        public RotationEngine build() {
            return new RotationEngine(this);
        }
    }
}
