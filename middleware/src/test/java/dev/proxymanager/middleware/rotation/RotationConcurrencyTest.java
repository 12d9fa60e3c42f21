package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.proxymanager.middleware.rotation.SlidingWindowAssertions.assertWithinLimit;
import static org.assertj.core.api.Assertions.assertThat;

/** Many threads against one engine: the invariants hold under contention, for every rotation method. */
class RotationConcurrencyTest {

    private static final int THREADS = 8;
    private static final int ITERATIONS = 5_000;

    @ParameterizedTest
    @EnumSource(RotationMethod.class)
    void neverOverALimitInAnyWindowAndNeverTwoHoldersOfAnExclusiveLease(RotationMethod method) throws Exception {
        run(method, LeaseMode.EXCLUSIVE, 1, 5, 2);
    }

    @ParameterizedTest
    @EnumSource(value = RotationMethod.class, names = {"LEAST_USED", "ROUND_ROBIN"})
    void neverMoreThanMaxHoldersOfASharedLease(RotationMethod method) throws Exception {
        run(method, LeaseMode.SHARED, 2, 2, 3);
    }

    private void run(RotationMethod method, LeaseMode lease, int maxHolders, int proxies, int holdsPerWorker)
            throws Exception {
        // given: 3 uses per 100 ms and 20 per second per proxy
        FakeClock clock = new FakeClock();
        RotationEngine engine = Fixtures.engine(clock, Fixtures.proxies("search", proxies).withRotation(method)
                .withLease(lease).withMaxHolders(maxHolders).withLeaseTtl(Duration.ofHours(1))
                .withLimit(LimitConfig.of(3, Duration.ofMillis(100))).withLimit(LimitConfig.of(20, Duration.ofSeconds(1)))
                .build());
        Map<String, ConcurrentLinkedQueue<Long>> grants = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> holders = new ConcurrentHashMap<>();
        AtomicInteger doubleHolds = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
        // a ticker thread moves time along while workers run; it stops short of the lease TTL, because a spinning
        // ticker on a loaded machine can otherwise run hours of fake time past a lease a descheduled worker still holds
        long maxTicks = Duration.ofMinutes(50).toMillis();
        Future<?> ticker = pool.submit(() -> {
            start.await();
            for (long tick = 0; running.get() && tick < maxTicks; tick++) {
                clock.advance(Duration.ofMillis(1));
                Thread.onSpinWait();
            }
            return null;
        });
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < ITERATIONS; i++) {
                    // hold several leases at once, so holds overlap even on a machine with few cores
                    List<SecretLease> held = new ArrayList<>(holdsPerWorker);
                    for (int j = 0; j < holdsPerWorker; j++) {
                        if (engine.acquire("search") instanceof AcquireResult.Granted g) {
                            SecretLease l = g.lease();
                            granted.incrementAndGet();
                            grants.computeIfAbsent(l.secretId(), k -> new ConcurrentLinkedQueue<>()).add(l.acquiredAtNanos());
                            if (holders.computeIfAbsent(l.secretId(), k -> new AtomicInteger()).incrementAndGet() > maxHolders) {
                                doubleHolds.incrementAndGet();
                            }
                            held.add(l);
                        }
                    }
                    for (SecretLease l : held) {
                        holders.get(l.secretId()).decrementAndGet(); // before release: a new holder may come right after
                        engine.release(l, Outcome.success());
                    }
                }
                return null;
            }));
        }
        // when
        start.countDown();
        for (Future<?> w : workers) {
            w.get(60, TimeUnit.SECONDS);
        }
        running.set(false);
        ticker.get(10, TimeUnit.SECONDS);
        pool.shutdown();
        // then
        assertThat(doubleHolds.get()).isZero();
        assertThat(granted.get()).isPositive();
        for (var e : grants.entrySet()) {
            long[] times = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            assertWithinLimit(e.getKey(), times, 3, Duration.ofMillis(100).toNanos());
            assertWithinLimit(e.getKey(), times, 20, Duration.ofSeconds(1).toNanos());
        }
    }
}
