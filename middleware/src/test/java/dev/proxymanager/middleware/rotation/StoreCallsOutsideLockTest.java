package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageStore;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The endpoint lock guards the engine's local view only: a slow store call (a Redis round trip, up to its timeout)
 * never holds up other callers of the same endpoint, and every state change is fired after the lock is released.
 */
class StoreCallsOutsideLockTest {

    /** An in-memory store whose acquire of secret {@code k1} waits until {@link #open} counts down. */
    private static final class SlowForK1Store implements UsageStore {
        final InMemoryUsageStore delegate = new InMemoryUsageStore();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);

        @Override
        public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                     String leaseId, long now, int units) {
            if (candidates[0].secretId().equals("k1")) {
                entered.countDown();
                try {
                    open.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return delegate.acquire(endpoint, candidates, count, terms, leaseId, now, units);
        }

        @Override
        public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                    long cooldownUntil, boolean remove) {
            return delegate.release(endpoint, secret, terms, leaseId, now, cooldownUntil, remove);
        }

        @Override
        public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now,
                                    int units) {
            return delegate.restamp(endpoint, secret, leaseId, usedAt, now, units);
        }

        @Override
        public void restore(String endpoint, String secretId) {
            delegate.restore(endpoint, secretId);
        }

        @Override
        public void remove(String endpoint, String secretId) {
            delegate.remove(endpoint, secretId);
        }

        @Override
        public void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes) {
            delegate.recordPastUses(endpoint, secret, useTimes);
        }

        @Override
        public SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now) {
            return delegate.usage(endpoint, secret, terms, now);
        }

        @Override
        public void forget(String endpoint, String secretId) {
            delegate.forget(endpoint, secretId);
        }

        @Override
        public void recordQuota(String endpoint, String secretId,
                                dev.proxymanager.middleware.quota.UpstreamQuota quota, long now) {
            delegate.recordQuota(endpoint, secretId, quota, now);
        }
    }

    private final FakeClock clock = new FakeClock();

    @Test
    void aStoreCallInFlightDoesNotHoldUpAcquireReleaseOrStatsOfTheSameEndpoint() throws Exception {
        // given an acquire of k1 stuck in the store
        SlowForK1Store store = new SlowForK1Store();
        ExecutorService threads = Executors.newCachedThreadPool(); // not the common pool: it may have one thread
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store)
                .withEndpoint(Fixtures.keys("api", 2).build()).build();
        CompletableFuture<AcquireResult> stuck = CompletableFuture.supplyAsync(() -> engine.acquire("api", "k1"),
                threads);
        assertThat(store.entered.await(10, TimeUnit.SECONDS)).isTrue();

        // when another caller uses the same endpoint meanwhile
        SecretLease other = granted(CompletableFuture.supplyAsync(() -> engine.acquire("api"), threads)
                .get(5, TimeUnit.SECONDS));
        List<SecretStats> stats = CompletableFuture.supplyAsync(() -> engine.stats("api"), threads)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture.runAsync(() -> engine.release(other, Outcome.success()), threads)
                .get(5, TimeUnit.SECONDS);

        // then it was served at once, with the other secret, and the stuck call completes once the store answers
        assertThat(other.secretId()).isEqualTo("k2");
        assertThat(stats).extracting(SecretStats::secretId).containsExactly("k1", "k2");
        store.open.countDown();
        assertThat(granted(stuck.get(10, TimeUnit.SECONDS)).secretId()).isEqualTo("k1");
        threads.shutdownNow();
    }

    @Test
    void aCallerFindingEverySecretInOtherCallersStoreCallsWaitsForTheirAnswersInsteadOfDenying() throws Exception {
        // given one key, its acquire stuck in the store
        SlowForK1Store store = new SlowForK1Store();
        ExecutorService threads = Executors.newCachedThreadPool();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store)
                .withEndpoint(Fixtures.keys("api", 1).build()).build();
        CompletableFuture<AcquireResult> stuck = CompletableFuture.supplyAsync(() -> engine.acquire("api"), threads);
        assertThat(store.entered.await(10, TimeUnit.SECONDS)).isTrue();

        // when a second caller asks meanwhile, and the store then answers the first
        CompletableFuture<AcquireResult> second = CompletableFuture.supplyAsync(() -> engine.acquire("api"), threads);
        Thread.sleep(50); // let it find the only key out for the store call (it must not answer yet)
        assertThat(second).isNotDone();
        store.open.countDown();

        // then the first is granted k1, and the second is served once k1 is placed: the key is not "removed"
        assertThat(granted(stuck.get(10, TimeUnit.SECONDS)).secretId()).isEqualTo("k1");
        assertThat(granted(second.get(10, TimeUnit.SECONDS)).secretId()).isEqualTo("k1");
        threads.shutdownNow();
    }

    @Test
    void reconfigureFiresARemovedEventForEachSecretThatLeftTheConfiguration() {
        // given an engine with k1..k3 and a listener
        RotationEngine engine = RotationEngine.builder().withClock(clock)
                .withEndpoint(Fixtures.keys("api", 3).build()).build();
        List<SecretStateEvent> events = new CopyOnWriteArrayList<>();
        engine.addListener(events::add);

        // when k2 and k3 leave the configuration
        engine.updateEndpoint(Fixtures.keys("api", 1).build());

        // then each fires a removed event, and k1 still serves
        assertThat(events).extracting(SecretStateEvent::secretId).containsExactly("k2", "k3");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.REMOVED);
            assertThat(e.reason()).isEqualTo("no longer in the configuration");
        });
        assertThat(granted(engine.acquire("api")).secretId()).isEqualTo("k1");
    }
}
