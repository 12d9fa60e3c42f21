package dev.proxymanager.middleware.cache;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.backend.BackendGate;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.transport.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The response cache in front of an upstream call: applies an endpoint's {@link CachePolicy} to a
 * {@link CacheStore}.
 *
 * <ul>
 *   <li>A fresh entry is served ({@link CacheStatus#HIT}, one store read); an expired one never is, except as
 *       {@link CacheStatus#STALE} when the upstream fails (exception or 5xx) within the policy's stale-if-error.</li>
 *   <li>Concurrent identical misses make one upstream call; the others wait for it (single flight), at most
 *       {@link Builder#withSingleFlightTimeout the bounded wait}, then call the upstream themselves.</li>
 *   <li>Responses are stored off the caller's path, on a bounded write queue; a full queue drops the write and
 *       counts it. Responses with {@code Cache-Control: no-store} or a status/method the policy excludes are not
 *       stored.</li>
 *   <li>A store that fails is treated as a miss and skipped for {@link Builder#withStoreRetryInterval}: the
 *       caller never sees a store error. An unreadable entry is a miss, counted and logged, never served.</li>
 * </ul>
 *
 * <p>Upstream exceptions reach the caller unchanged (unless a stale entry is served instead).
 *
 * <p>This class is threadsafe.
 */
public final class ResponseCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);

    /** Default bounded wait for an identical in-flight call: 30 seconds. */
    public static final Duration DEFAULT_SINGLE_FLIGHT_TIMEOUT = Duration.ofSeconds(30);
    /** Default time a failed store is skipped before it is tried again: 5 seconds. */
    public static final Duration DEFAULT_STORE_RETRY_INTERVAL = Duration.ofSeconds(5);
    /** Default largest body stored: 8 MiB; a larger response goes to the caller without being stored. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
    /** Default capacity of the write queue: 1000 responses. */
    public static final int DEFAULT_WRITE_QUEUE_CAPACITY = 1000;

    private final CacheStore store;
    private final Clock clock;
    private final int maxBodyBytes;
    private final Duration singleFlightTimeout;
    private final Duration storeRetryInterval;
    private final Executor writer;
    private final ExecutorService ownedWriter;
    private final ConcurrentMap<String, CompletableFuture<CacheResult>> inFlight = new ConcurrentHashMap<>();
    /** Skips the store for {@code storeRetryInterval} after an error; then one call probes it. */
    private final BackendGate storeGate;

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder bypasses = new LongAdder();
    private final LongAdder stale = new LongAdder();
    private final LongAdder storeErrors = new LongAdder();
    private final LongAdder corrupt = new LongAdder();
    private final LongAdder writesDropped = new LongAdder();
    private final LongAdder singleFlightTimeouts = new LongAdder();

    private ResponseCache(Builder b) {
        this.store = b.store;
        this.clock = b.clock;
        this.maxBodyBytes = b.maxBodyBytes;
        this.singleFlightTimeout = b.singleFlightTimeout;
        this.storeRetryInterval = b.storeRetryInterval;
        this.storeGate = new BackendGate(Backoff.constant(b.storeRetryInterval));
        if (b.writer != null) {
            this.writer = b.writer;
            this.ownedWriter = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                    new ArrayBlockingQueue<>(b.writeQueueCapacity), r -> {
                        Thread t = new Thread(r, "proxy-manager-cache-writer-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    }, new ThreadPoolExecutor.AbortPolicy());
            this.writer = pool;
            this.ownedWriter = pool;
        }
    }

    /** Starts a cache over {@code store}. */
    public static Builder builder(CacheStore store) {
        return new Builder(store);
    }

    /**
     * Answers a request from the cache or the upstream according to {@code policy} and {@code mode}.
     *
     * @param key the request's key (secrets already excluded)
     * @param policy the endpoint's cache policy
     * @param mode this call's use of the cache
     * @param upstream the real call
     * @return the response and where it came from
     * @throws IOException what {@code upstream} threw, when no stale entry may stand in
     */
    public CacheResult fetch(CacheKey key, CachePolicy policy, CacheMode mode, Upstream upstream) throws IOException {
        return fetch(key, policy, mode, upstream, response -> true);
    }

    /**
     * As {@link #fetch(CacheKey, CachePolicy, CacheMode, Upstream)}, storing an upstream response only when
     * {@code storable} also accepts it (the caller knows what the policy cannot see: e.g. that a 200 was a ban page).
     */
    public CacheResult fetch(CacheKey key, CachePolicy policy, CacheMode mode, Upstream upstream,
                             java.util.function.Predicate<CachedResponse> storable) throws IOException {
        Objects.requireNonNull(storable, "storable");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(upstream, "upstream");
        if (mode == CacheMode.BYPASS || !policy.allowsMethod(key.method())) {
            bypasses.increment();
            return new CacheResult(upstream.call(), CacheStatus.BYPASS);
        }
        CachedResponse staleCandidate = null;
        if (mode == CacheMode.NORMAL) {
            Optional<CachedResponse> found = read(key);
            if (found.isPresent()) {
                CachedResponse entry = found.get();
                Instant now = clock.now();
                if (entry.isFreshAt(now)) {
                    hits.increment();
                    return new CacheResult(entry, CacheStatus.HIT);
                }
                if (now.isBefore(entry.expiresAt().orElseThrow().plus(policy.staleIfError()))) {
                    staleCandidate = entry;
                }
            }
        }

        CompletableFuture<CacheResult> mine = new CompletableFuture<>();
        CompletableFuture<CacheResult> leader = inFlight.putIfAbsent(key.id(), mine);
        if (leader != null) {
            Optional<CacheResult> shared = await(leader, key);
            if (shared.isPresent()) {
                CacheResult r = shared.get();
                if (r.status() == CacheStatus.STALE) {
                    stale.increment();
                    return r;
                }
                hits.increment();
                return new CacheResult(r.response(), CacheStatus.HIT);
            }
            // the leader failed or took too long: make our own call, without registering or storing twice
            return callUpstream(key, policy, staleCandidate, upstream, null, storable);
        }
        return callUpstream(key, policy, staleCandidate, upstream, mine, storable);
    }

    private CacheResult callUpstream(CacheKey key, CachePolicy policy, CachedResponse staleCandidate,
                                     Upstream upstream, CompletableFuture<CacheResult> flight,
                                     java.util.function.Predicate<CachedResponse> storable) throws IOException {
        CachedResponse response;
        try {
            response = upstream.call();
        } catch (IOException | RuntimeException | Error e) {
            if (staleCandidate != null && e instanceof Exception) {
                return servedStale(key, staleCandidate, flight, e.toString());
            }
            if (flight != null) {
                inFlight.remove(key.id(), flight);
                flight.completeExceptionally(e);
            }
            throw e;
        }
        if (staleCandidate != null && response.status() >= 500) {
            return servedStale(key, staleCandidate, flight, "status " + response.status());
        }
        misses.increment();
        CacheResult result = new CacheResult(response, CacheStatus.MISS);
        if (flight == null) {
            return result;
        }
        flight.complete(result);
        if (storable.test(response) && isStorable(key, policy, response)) {
            Instant now = clock.now();
            CachedResponse stamped = response.withTimes(now, now.plus(policy.ttl()));
            try {
                // keep the flight registered until the write lands, so late identical calls share it
                writer.execute(() -> {
                    try {
                        write(key, stamped);
                    } finally {
                        inFlight.remove(key.id(), flight);
                    }
                });
            } catch (RejectedExecutionException e) {
                writesDropped.increment();
                inFlight.remove(key.id(), flight);
                LOG.atWarn().addKeyValue(LogFields.ENDPOINT, key.endpoint()).addKeyValue("cache_id", key.id())
                        .log("cache write queue full; response not stored");
            }
        } else {
            inFlight.remove(key.id(), flight);
        }
        return result;
    }

    private CacheResult servedStale(CacheKey key, CachedResponse entry, CompletableFuture<CacheResult> flight,
                                    String why) {
        stale.increment();
        CacheResult result = new CacheResult(entry, CacheStatus.STALE);
        LOG.atInfo().addKeyValue(LogFields.ENDPOINT, key.endpoint()).addKeyValue(LogFields.CACHE, "stale")
                .addKeyValue("cache_id", key.id()).log("upstream failed ({}); serving stale cache entry", why);
        if (flight != null) {
            inFlight.remove(key.id(), flight);
            flight.complete(result);
        }
        return result;
    }

    private Optional<CacheResult> await(CompletableFuture<CacheResult> leader, CacheKey key) {
        try {
            return Optional.of(leader.get(singleFlightTimeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            singleFlightTimeouts.increment();
            LOG.atDebug().addKeyValue(LogFields.ENDPOINT, key.endpoint()).addKeyValue("cache_id", key.id())
                    .log("identical in-flight call took longer than {}; calling upstream", singleFlightTimeout);
            return Optional.empty();
        } catch (ExecutionException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private boolean isStorable(CacheKey key, CachePolicy policy, CachedResponse response) {
        if (!policy.allows(key.method(), response.status()) || response.bodyLength() > maxBodyBytes) {
            return false; // a cache document holds the whole body (base64 for binary): large ones are not stored
        }
        String cc = response.header("cache-control").orElse("").toLowerCase(Locale.ROOT);
        return !cc.contains("no-store");
    }

    private Optional<CachedResponse> read(CacheKey key) {
        if (!storeGate.allowsCall(clock.nanoTime())) {
            return Optional.empty();
        }
        try {
            Optional<CachedResponse> found = store.get(key.id());
            markUp();
            return found;
        } catch (CorruptCacheEntryException e) {
            corrupt.increment();
            LOG.atWarn().addKeyValue(LogFields.ENDPOINT, key.endpoint()).addKeyValue("cache_id", key.id())
                    .log("unreadable cache entry treated as a miss: {}", e.getMessage());
            return Optional.empty();
        } catch (RuntimeException e) {
            markDown(key, e);
            return Optional.empty();
        }
    }

    private void write(CacheKey key, CachedResponse stamped) {
        if (!storeGate.allowsCall(clock.nanoTime())) {
            return;
        }
        try {
            store.put(key, stamped);
            markUp();
        } catch (RuntimeException e) {
            markDown(key, e);
        }
    }

    private void markDown(CacheKey key, RuntimeException e) {
        storeErrors.increment();
        if (storeGate.recordFailure(clock.nanoTime())) {
            LOG.atWarn().addKeyValue(LogFields.ENDPOINT, key.endpoint()).addKeyValue("cache_errors",
                    storeErrors.sum()).log("cache store failed, bypassing the cache for {}: {}", storeRetryInterval,
                    e.getMessage());
        }
    }

    private void markUp() {
        if (storeGate.recordSuccess()) {
            LOG.atInfo().addKeyValue("cache_errors", storeErrors.sum()).log("cache store reachable again");
        }
    }

    /**
     * Deletes entries that expired more than {@code keepStaleFor} ago (keep it at least the longest stale-if-error
     * in use).
     *
     * @return how many entries were removed
     * @throws CacheStoreException if the store cannot be reached
     */
    public long purgeExpired(Duration keepStaleFor) {
        return store.purgeExpiredBefore(clock.now().minus(keepStaleFor));
    }

    /** The counters so far. */
    public ResponseCacheStats stats() {
        return new ResponseCacheStats(hits.sum(), misses.sum(), bypasses.sum(), stale.sum(), storeErrors.sum(),
                corrupt.sum(), writesDropped.sum(), singleFlightTimeouts.sum(),
                !storeGate.skips(clock.nanoTime()));
    }

    /** Waits (up to 10 s) for queued writes, then stops the cache's own writer thread. Does not close the store. */
    @Override
    public void close() {
        if (ownedWriter != null) {
            ownedWriter.shutdown();
            try {
                ownedWriter.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Builds a {@link ResponseCache}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final CacheStore store;
        private Clock clock = Clock.system();
        private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private Duration singleFlightTimeout = DEFAULT_SINGLE_FLIGHT_TIMEOUT;
        private Duration storeRetryInterval = DEFAULT_STORE_RETRY_INTERVAL;
        private Executor writer;
        private int writeQueueCapacity = DEFAULT_WRITE_QUEUE_CAPACITY;

        private Builder(CacheStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** The largest response body stored; larger ones are answered but not stored. Default 8 MiB. */
        public Builder withMaxBodyBytes(int maxBodyBytes) {
            if (maxBodyBytes < 0) {
                throw new IllegalArgumentException("cache maxBodyBytes must be >= 0, was " + maxBodyBytes);
            }
            this.maxBodyBytes = maxBodyBytes;
            return this;
        }

        /** The clock for entry times and freshness; default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Longest wait for an identical in-flight call; default 30 s. */
        public Builder withSingleFlightTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("singleFlightTimeout must be >= 0, was " + timeout);
            }
            this.singleFlightTimeout = timeout;
            return this;
        }

        /** How long a failed store is skipped; default 5 s; zero retries the store on every call. */
        public Builder withStoreRetryInterval(Duration interval) {
            if (interval.isNegative()) {
                throw new IllegalArgumentException("storeRetryInterval must be >= 0, was " + interval);
            }
            this.storeRetryInterval = interval;
            return this;
        }

        /** Runs writes on {@code executor} instead of the cache's own single writer thread. */
        public Builder withWriteExecutor(Executor executor) {
            this.writer = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Capacity of the own writer's queue; default 1000. Ignored with {@link #withWriteExecutor}. */
        public Builder withWriteQueueCapacity(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("writeQueueCapacity must be >= 1, was " + capacity);
            }
            this.writeQueueCapacity = capacity;
            return this;
        }

        public ResponseCache build() {
            return new ResponseCache(this);
        }
    }
}
