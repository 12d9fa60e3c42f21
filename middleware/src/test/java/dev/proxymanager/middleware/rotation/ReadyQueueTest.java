package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.PrefetchConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.proxies;
import static org.assertj.core.api.Assertions.assertThat;

/** Seed D's producer queue, driven step by step: the producer runs only when the test calls {@code runDue()}. */
class ReadyQueueTest {

    private final FakeClock clock = new FakeClock();
    private final ManualPrefetchScheduler producer = new ManualPrefetchScheduler(clock);

    private RotationEngine engine(EndpointConfig endpoint) {
        return RotationEngine.builder().withClock(clock).withRandomSeed(42).withPrefetchScheduler(producer)
                .withEndpoint(endpoint).build();
    }

    private static int holders(RotationEngine engine) {
        return engine.stats("search").stream().mapToInt(SecretStats::inUse).sum();
    }

    private static long totalUses(RotationEngine engine) {
        return engine.stats("search").stream().mapToLong(SecretStats::totalUses).sum();
    }

    @Test
    void handsOutTheMostRecentlyPrefetchedSecretFirst() {
        // given: the producer fills the queue with p1, p2, p3 in turn
        RotationEngine engine = engine(proxies("search", 4).withRotation(RotationMethod.ROUND_ROBIN)
                .withPrefetch(PrefetchConfig.of(3)).build());
        producer.runDue();
        assertThat(engine.prefetched("search")).isEqualTo(3);
        // when
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(granted(engine.acquire("search")).secretId());
        }
        // then: last in, first out; with the queue empty (producer not run) the caller acquires directly
        assertThat(ids).containsExactly("p3", "p2", "p1", "p4");
    }

    @Test
    void prefetchedSecretsCountAsUsesSoNoLimitIsExceeded() {
        // given: 2 proxies × 2 uses per minute = 4 uses in the window, and a queue of 3
        RotationEngine engine = engine(proxies("search", 2).withLimit(LimitConfig.of(2, Duration.ofMinutes(1)))
                .withPrefetch(PrefetchConfig.of(3)).build());
        long start = clock.nanoTime();
        producer.runDue();
        assertThat(totalUses(engine)).isEqualTo(3);
        // when: callers take everything while the producer keeps refilling
        List<SecretLease> grants = new ArrayList<>();
        AcquireResult r;
        while ((r = engine.acquire("search")) instanceof AcquireResult.Granted g) {
            grants.add(g.lease());
            clock.advance(Duration.ofMillis(10));
            producer.runDue();
        }
        // then: exactly the 4 uses the limits allow, each counted when it was acquired (prefetched or not)
        assertThat(grants).hasSize(4);
        assertThat(grants).allSatisfy(l -> assertThat(l.acquiredAtNanos()).isBetween(start, clock.nanoTime()));
        assertThat(totalUses(engine)).isEqualTo(4);
        AcquireResult.Denied d = denied(r);
        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        // and once the window frees up, the producer fills the queue again
        clock.advance(d.retryAfter());
        producer.runDue();
        assertThat(engine.prefetched("search")).isEqualTo(3);
    }

    @Test
    void dropsAPrefetchedSecretThatStartedCoolingDown() {
        // given: the only proxy is prefetched twice
        RotationEngine engine = engine(proxies("search", 1).withPrefetch(PrefetchConfig.of(2)).build());
        producer.runDue();
        SecretLease first = granted(engine.acquire("search"));
        // when: its request gets a 503 with Retry-After, so the proxy cools down while the second one waits
        engine.release(first, Outcome.status(503, Duration.ofSeconds(30)));
        AcquireResult r = engine.acquire("search");
        // then: the waiting one is not handed out
        assertThat(denied(r).cause()).isEqualTo(UnavailableCause.COOLING_DOWN);
        assertThat(engine.prefetched("search")).isZero();
        // and the producer waits for the cooldown, then refills
        producer.runDue();
        assertThat(engine.prefetched("search")).isZero();
        clock.advance(Duration.ofSeconds(30));
        producer.runDue();
        assertThat(engine.prefetched("search")).isEqualTo(2);
    }

    @Test
    void dropsAPrefetchedSecretThatWasRemovedAndHandsOutTheNextOne() {
        // given: queue p2 (newest), p1
        RotationEngine engine = engine(proxies("search", 2).withRotation(RotationMethod.ROUND_ROBIN)
                .withPrefetch(PrefetchConfig.of(2)).build());
        producer.runDue();
        // when
        engine.removeSecret("search", "p2", "operator");
        // then
        assertThat(granted(engine.acquire("search")).secretId()).isEqualTo("p1");
    }

    @Test
    void dropsUsesPrefetchedUnderALimitThatWasLoweredSince() {
        // given: 3 uses of the only proxy prefetched under a limit of 5 per minute
        EndpointConfig.Builder search = proxies("search", 1).withPrefetch(PrefetchConfig.of(3));
        RotationEngine engine = engine(search.withLimit(LimitConfig.of(5, Duration.ofMinutes(1))).build());
        producer.runDue();
        // when: the limit drops to 2 per minute
        engine.updateEndpoint(proxies("search", 1).withPrefetch(PrefetchConfig.of(3))
                .withLimit(LimitConfig.of(2, Duration.ofMinutes(1))).build());
        // then: none of the 3 is handed out; nothing was sent with them, so they are given back and the new
        // limit's 2 uses go to fresh grants
        assertThat(granted(engine.acquire("search")).acquiredAtNanos()).isEqualTo(clock.nanoTime());
        assertThat(engine.prefetched("search")).isZero();
        granted(engine.acquire("search"));
        assertThat(denied(engine.acquire("search")).cause()).isEqualTo(UnavailableCause.AT_LIMIT);
    }

    @Test
    void entriesOlderThanMaxAgeAreReleasedAndNotHandedOut() {
        // given: both proxies leased exclusively by the queue
        RotationEngine engine = engine(proxies("search", 2).withLease(LeaseMode.EXCLUSIVE)
                .withLeaseTtl(Duration.ofSeconds(60)).withPrefetch(new PrefetchConfig(2, Duration.ofSeconds(1))).build());
        producer.runDue();
        assertThat(holders(engine)).isEqualTo(2);
        // when: they wait longer than max age, the producer not running
        clock.advance(Duration.ofSeconds(2));
        SecretLease l = granted(engine.acquire("search"));
        // then: the stale ones were released and the caller got a fresh lease
        assertThat(l.acquiredAtNanos()).isEqualTo(clock.nanoTime());
        assertThat(holders(engine)).isEqualTo(1);
        assertThat(totalUses(engine)).isEqualTo(1); // nothing was sent with the dropped ones: given back
    }

    @Test
    void producerReplacesEntriesAsTheyAgeOut() {
        // given
        RotationEngine engine = engine(proxies("search", 2).withLease(LeaseMode.EXCLUSIVE)
                .withPrefetch(new PrefetchConfig(2, Duration.ofSeconds(1))).build());
        producer.runDue();
        // when: just past max age the producer's re-check runs
        clock.advance(Duration.ofMillis(1001));
        producer.runDue();
        // then: two fresh leases, the old ones released
        assertThat(engine.prefetched("search")).isEqualTo(2);
        assertThat(holders(engine)).isEqualTo(2);
        assertThat(granted(engine.acquire("search")).acquiredAtNanos()).isEqualTo(clock.nanoTime());
    }

    @Test
    void stickyAcquireTakesThePreferredSecretFromTheQueue() {
        RotationEngine engine = engine(proxies("search", 3).withRotation(RotationMethod.ROUND_ROBIN)
                .withLease(LeaseMode.EXCLUSIVE).withPrefetch(PrefetchConfig.of(3)).build());
        producer.runDue();
        assertThat(granted(engine.acquire("search", "p1")).secretId()).isEqualTo("p1");
        assertThat(granted(engine.acquire("search")).secretId()).isEqualTo("p3");
    }

    @Test
    void releasingALeaseLetsTheProducerPrefetchTheFreedSecret() {
        // given: one proxy, exclusive, taken by a caller
        RotationEngine engine = engine(proxies("search", 1).withLease(LeaseMode.EXCLUSIVE)
                .withPrefetch(PrefetchConfig.of(1)).build());
        producer.runDue();
        SecretLease l = granted(engine.acquire("search"));
        producer.runDue();
        assertThat(engine.prefetched("search")).isZero();
        // when
        engine.release(l, Outcome.success());
        producer.runDue();
        // then: no waiting for the lease TTL
        assertThat(engine.prefetched("search")).isEqualTo(1);
    }

    @Test
    void closeStopsTheProducerAndReleasesEveryLease() {
        // given
        RotationEngine engine = engine(proxies("search", 3).withLease(LeaseMode.EXCLUSIVE)
                .withPrefetch(PrefetchConfig.of(3)).build());
        producer.runDue();
        assertThat(holders(engine)).isEqualTo(3);
        // when
        engine.close();
        // then
        assertThat(holders(engine)).isZero();
        assertThat(engine.prefetched("search")).isZero();
        SecretLease l = granted(engine.acquire("search"));
        assertThat(l.acquiredAtNanos()).isEqualTo(clock.nanoTime());
        engine.release(l, Outcome.success());
        producer.runDue();
        assertThat(engine.prefetched("search")).isZero();
        assertThat(holders(engine)).isZero();
    }

    @Test
    void turningPrefetchOffAtRunTimeReleasesTheQueue() {
        RotationEngine engine = engine(proxies("search", 2).withLease(LeaseMode.EXCLUSIVE)
                .withPrefetch(PrefetchConfig.of(2)).build());
        producer.runDue();
        engine.updateEndpoint(proxies("search", 2).withLease(LeaseMode.EXCLUSIVE).build());
        assertThat(holders(engine)).isZero();
        assertThat(engine.prefetched("search")).isZero();
    }
}
