package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.redis.RedisUsageStore;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Redis stopped mid-run: fail-open keeps serving from local counts, fail-closed hands out nothing and says why, and
 * both recover by themselves when Redis returns. A script error is not an outage: the call fails loudly in either
 * mode, limits are never skipped. Runs on a dedicated redis-server that the tests stop and start.
 */
class FailoverUsageStoreTest {

    private static final long SECOND = 1_000_000_000L;
    private static RedisTestServer redis;

    private final FakeClock clock = new FakeClock();
    private final List<FailoverUsageStore.Status> changes = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisTestServer.dedicated();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void redisIsUp() {
        redis.start();
        redis.flushAll();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private FailoverUsageStore store(FailoverUsageStore.Mode mode) {
        RedisUsageStore primary = RedisUsageStore.builder(redis.uri()).withCommandTimeout(Duration.ofMillis(500)).build();
        FailoverUsageStore s = FailoverUsageStore.builder(primary).withMode(mode).withClock(clock)
                .withProbeInterval(Duration.ofSeconds(1)).withHealthCheck(primary::ping).onStateChange(changes::add)
                .build();
        toClose.add(s);
        return s;
    }

    private static StoreCandidate limited(String id, int requests) {
        return new StoreCandidate(id, List.of(new UsageLimit(requests, 60 * SECOND, 0)));
    }

    private StoreDecision acquire(UsageStore s, StoreCandidate c, String leaseId) {
        return s.acquire("search", new StoreCandidate[] {c}, 1, LeaseTerms.NONE, leaseId, clock.nanoTime());
    }

    @Test
    void failOpenCountsLocallyWhileRedisIsDownAndRecoversWhenItReturns() {
        // given a fail-open store that used its secret once through Redis (limit 2 per minute)
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_OPEN);
        StoreCandidate a = limited("a", 2);
        assertThat(acquire(store, a, "l1").isGranted()).isTrue();

        // when Redis stops
        redis.stop();

        // then requests are still served, counted in this process only, and the store says it is degraded
        assertThat(acquire(store, a, "l2").isGranted()).isTrue();
        assertThat(store.status().state()).isEqualTo(FailoverUsageStore.State.DEGRADED);
        assertThat(store.status().ready()).isTrue();
        assertThat(store.status().outages()).isEqualTo(1);
        assertThat(store.status().lastError()).contains("unavailable during acquire");
        assertThat(acquire(store, a, "l3").isGranted()).isTrue();
        assertThat(acquire(store, a, "l4").isGranted()).as("local limit of 2 reached").isFalse();
        assertThat(store.status().fallbackCalls()).isEqualTo(3);

        // when Redis returns: the next probe (once per second of the store's clock) recovers
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            acquire(store, limited("probe", 1000), "p" + clock.nanoTime());
            return store.status().state() == FailoverUsageStore.State.CONNECTED;
        });

        // then counting is shared again: Redis (restarted empty, no persistence) holds the new use
        assertThat(acquire(store, a, "l5").isGranted()).isTrue();
        assertThat(store.usage("search", a, LeaseTerms.NONE, clock.nanoTime()).totalUses()).isEqualTo(1);
        assertThat(changes).extracting(FailoverUsageStore.Status::state)
                .containsExactly(FailoverUsageStore.State.DEGRADED, FailoverUsageStore.State.CONNECTED);
    }

    @Test
    void whileDownOneCheckRunsPerProbeIntervalAndTheFirstOneAfterRedisReturnsRecovers() {
        // given a store that went down, whose health check counts its runs
        RedisUsageStore primary = RedisUsageStore.builder(redis.uri()).withCommandTimeout(Duration.ofMillis(500)).build();
        java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
        FailoverUsageStore store = FailoverUsageStore.builder(primary).withClock(clock)
                .withProbeInterval(Duration.ofSeconds(1)).withHealthCheck(() -> {
                    checks.incrementAndGet();
                    return primary.ping();
                }).build();
        toClose.add(store);
        StoreCandidate a = limited("a", 100);
        assertThat(acquire(store, a, "l1").isGranted()).isTrue();
        redis.stop();
        assertThat(acquire(store, a, "l2").isGranted()).isTrue(); // fail-open: counted locally
        assertThat(store.status().down()).isTrue();

        // when /ready and requests ask within the probe interval, then nothing checks the primary
        store.probe();
        acquire(store, a, "l3");
        assertThat(checks).hasValue(0);

        // when the interval has passed, then one check runs, however many ask
        clock.advance(Duration.ofSeconds(1));
        store.probe();
        store.probe();
        acquire(store, a, "l4");
        assertThat(checks).hasValue(1);
        assertThat(store.status().down()).isTrue();

        // when Redis returns, then the first check after the next interval recovers, on a new connection at once
        redis.start();
        clock.advance(Duration.ofSeconds(1));
        assertThat(store.probe().state()).isEqualTo(FailoverUsageStore.State.CONNECTED);
        assertThat(checks).hasValue(2);
        assertThat(acquire(store, a, "l5").isGranted()).isTrue();
    }

    @Test
    void failClosedGrantsNothingWhileRedisIsDownAndRecoversWhenItReturns() {
        // given a fail-closed store
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_CLOSED);
        StoreCandidate a = limited("a", 100);
        assertThat(acquire(store, a, "l1").isGranted()).isTrue();

        // when Redis stops
        redis.stop();

        // then nothing is granted; the candidate reads "store unavailable" until the next probe
        StoreDecision d = acquire(store, a, "l2");
        assertThat(d.isGranted()).isFalse();
        assertThat(d.examined()).containsExactly(new Availability(clock.nanoTime() + SECOND, UnavailableCause.STORE_UNAVAILABLE));
        assertThat(store.status().state()).isEqualTo(FailoverUsageStore.State.UNAVAILABLE);
        assertThat(store.status().ready()).isFalse();

        // when Redis returns, a probe without traffic recovers
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            clock.advance(Duration.ofSeconds(1)); // one probe per interval of the store's clock
            return store.probe().state() == FailoverUsageStore.State.CONNECTED;
        });
        assertThat(acquire(store, a, "l3").isGranted()).isTrue();
        assertThat(store.status().ready()).isTrue();
    }

    @Test
    void leaseGrantedLocallyDuringAnOutageIsReleasedLocallyAfterRecovery() {
        // given a fail-open store that granted an exclusive lease while Redis was down
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_OPEN);
        LeaseTerms exclusive = new LeaseTerms(1, 30 * SECOND);
        StoreCandidate a = new StoreCandidate("a", List.of());
        redis.stop();
        assertThat(store.acquire("search", new StoreCandidate[] {a}, 1, exclusive, "local-1", clock.nanoTime())
                .isGranted()).isTrue();
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            clock.advance(Duration.ofSeconds(1)); // one probe per interval of the store's clock
            return store.probe().state() == FailoverUsageStore.State.CONNECTED;
        });

        // when it is released after recovery
        Availability after = store.release("search", a, exclusive, "local-1", clock.nanoTime(), 0, false);

        // then the local store frees it
        assertThat(after.cause()).isEqualTo(UnavailableCause.READY);
        assertThat(store.acquire("search", new StoreCandidate[] {a}, 1, exclusive, "shared-1", clock.nanoTime())
                .isGranted()).isTrue();
    }

    @Test
    void aGrantMadeLocallyDuringAnOutageIsGivenBackLocallyAfterRecovery() {
        // given a fail-open store that granted an exclusive lease of a 1-a-minute secret while Redis was down
        InMemoryUsageStore local = new InMemoryUsageStore();
        RedisUsageStore primary = RedisUsageStore.builder(redis.uri()).withCommandTimeout(Duration.ofMillis(500)).build();
        FailoverUsageStore store = FailoverUsageStore.builder(primary).withLocalStore(local).withClock(clock)
                .withProbeInterval(Duration.ofSeconds(1)).withHealthCheck(primary::ping).build();
        toClose.add(store);
        LeaseTerms exclusive = new LeaseTerms(1, 30 * SECOND);
        StoreCandidate a = limited("a", 1);
        redis.stop();
        long grantedAt = clock.nanoTime();
        assertThat(store.acquire("search", new StoreCandidate[] {a}, 1, exclusive, "local-1", grantedAt)
                .isGranted()).isTrue();
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            return store.probe().state() == FailoverUsageStore.State.CONNECTED;
        });

        // when it is given back unsent
        Availability after = store.giveBack("search", a, exclusive, "local-1", grantedAt, clock.nanoTime(), 1);

        // then the local store, which holds the grant, ends its lease and withdraws its use
        assertThat(after.cause()).isEqualTo(UnavailableCause.READY);
        assertThat(local.usage("search", a, exclusive, clock.nanoTime()).totalUses()).isZero();
        assertThat(local.usage("search", a, exclusive, clock.nanoTime()).holders()).isZero();
    }

    @Test
    void failClosedEngineDeniesWithAReasonNamingTheStore() {
        // given an engine on a fail-closed Redis store built from settings
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), false, Duration.ofSeconds(60));
        UsageStore store = UsageStores.create(settings, clock);
        toClose.add(store);
        EndpointConfig search = EndpointConfig.builder("search", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:9")).withLimit(LimitConfig.of(100, Duration.ofMinutes(1)))
                .withLease(LeaseMode.EXCLUSIVE).withSecret("k1", "key-value-number-1").build();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store).withEndpoint(search).build();
        AcquireResult first = engine.acquire("search");
        assertThat(first).isInstanceOf(AcquireResult.Granted.class);
        engine.release(((AcquireResult.Granted) first).lease(), Outcome.success());

        // when Redis stops
        redis.stop();
        AcquireResult denied = engine.acquire("search");

        // then the denial says the store is down, and the engine asks again after Redis returns
        assertThat(denied).isInstanceOfSatisfying(AcquireResult.Denied.class, d -> {
            assertThat(d.cause()).isEqualTo(UnavailableCause.STORE_UNAVAILABLE);
            assertThat(d.reason()).isEqualTo("the usage store of 'search' is unavailable; fail-closed; next free in 1 s");
            assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(1));
        });
        redis.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            clock.advance(Duration.ofSeconds(1));
            AcquireResult r = engine.acquire("search");
            if (r instanceof AcquireResult.Granted g) {
                engine.release(g.lease(), Outcome.success());
                return true;
            }
            return false;
        });
    }

    /** Makes every stored key of endpoint {@code endpoint} a plain string, so the store's script fails with WRONGTYPE. */
    private static void corruptKeysOf(String endpoint) {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            List<String> keys = c.sync().keys("pm:{" + endpoint + "}:*");
            assertThat(keys).isNotEmpty();
            for (String k : keys) {
                c.sync().del(k);
                c.sync().set(k, "not-a-usage-record");
            }
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    @Test
    void scriptErrorFailsTheCallLoudlyInFailOpenModeInsteadOfCountingLocally() {
        // given a fail-open store whose secret's keys in Redis break the script (WRONGTYPE)
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_OPEN);
        StoreCandidate a = limited("a", 100);
        assertThat(acquire(store, a, "l1").isGranted()).isTrue();
        corruptKeysOf("search");

        // when it is asked for the secret, the call fails: no local fallback, no outage
        assertThatThrownBy(() -> acquire(store, a, "l2")).isInstanceOf(UsageStoreFailedException.class)
                .hasMessageContaining("failed during acquire");

        // then it is counted and reported: not ready, still connected, nothing served locally
        FailoverUsageStore.Status s = store.status();
        assertThat(s.faults()).isEqualTo(1);
        assertThat(s.failing()).isTrue();
        assertThat(s.ready()).isFalse();
        assertThat(s.lastFault()).contains("WRONGTYPE");
        assertThat(s.state()).isEqualTo(FailoverUsageStore.State.CONNECTED);
        assertThat(s.fallbackCalls()).isZero();
        assertThat(s.outages()).isZero();
        assertThat(store.probe().ready()).as("a PING that works does not hide the failure").isFalse();

        // when Redis answers again, the failure clears
        redis.flushAll();
        assertThat(acquire(store, a, "l3").isGranted()).isTrue();
        assertThat(store.status().ready()).isTrue();
        assertThat(store.status().failing()).isFalse();
    }

    @Test
    void engineOnAFailOpenStoreDeniesOnAScriptErrorAndNeverSkipsLimits() {
        // given an engine on a fail-open Redis store built from settings, its secret's keys corrupted
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), true, Duration.ofSeconds(60));
        FailoverUsageStore store = (FailoverUsageStore) UsageStores.create(settings, clock);
        toClose.add(store);
        EndpointConfig search = EndpointConfig.builder("search", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:9")).withLimit(LimitConfig.of(100, Duration.ofMinutes(1)))
                .withSecret("k1", "key-value-number-1").build();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store).withEndpoint(search).build();
        assertThat(engine.acquire("search")).isInstanceOf(AcquireResult.Granted.class);
        corruptKeysOf("search");

        // when it acquires, repeatedly
        for (int i = 0; i < 3; i++) {
            // then every acquire is denied as a store failure: no secret without a limit check
            assertThat(engine.acquire("search")).isInstanceOfSatisfying(AcquireResult.Denied.class,
                    d -> assertThat(d.cause()).isEqualTo(UnavailableCause.STORE_FAILED));
        }
        assertThat(store.status().faults()).isEqualTo(3);
        assertThat(store.status().ready()).isFalse();
    }

    @Test
    void engineOnAFailOpenStoreStillEnforcesLimitsPerProcessWhileRedisIsDown() {
        // given an engine on a fail-open Redis store, one secret, 2 requests per minute
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), true, Duration.ofSeconds(60));
        UsageStore store = UsageStores.create(settings, clock);
        toClose.add(store);
        EndpointConfig search = EndpointConfig.builder("search", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:9")).withLimit(LimitConfig.of(2, Duration.ofMinutes(1)))
                .withSecret("k1", "key-value-number-1").build();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store).withEndpoint(search).build();

        // when Redis stops
        redis.stop();

        // then the secret is served from local counts, up to its limit and no further
        assertThat(engine.acquire("search")).isInstanceOf(AcquireResult.Granted.class);
        assertThat(engine.acquire("search")).isInstanceOf(AcquireResult.Granted.class);
        assertThat(engine.acquire("search")).isInstanceOfSatisfying(AcquireResult.Denied.class,
                d -> assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT));
        assertThat(((FailoverUsageStore) store).status().state()).isEqualTo(FailoverUsageStore.State.DEGRADED);
    }
}
