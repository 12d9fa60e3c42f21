package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.PrefetchConfig;
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
import static org.assertj.core.api.Assertions.fail;

/**
 * The real producer thread against several caller threads: prefetched or not, no secret is used over a limit in any
 * window, no exclusive lease has two holders, and closing leaves nothing held.
 */
class ReadyQueueConcurrencyTest {

    private static final int THREADS = 4;
    private static final int ITERATIONS = 3_000;
    private static final int QUEUE = 3;

    @ParameterizedTest
    @EnumSource(value = RotationMethod.class, names = {"LEAST_USED", "ROUND_ROBIN", "HEALTH_WEIGHTED"})
    void producerAndCallersNeverExceedALimitNorShareAnExclusiveLease(RotationMethod method) throws Exception {
        // given: 6 proxies, 3 uses per 100 ms and 20 per second each, exclusive leases, a queue of 3
        FakeClock clock = new FakeClock();
        PrefetchScheduler producer = PrefetchScheduler.singleThread("test-prefetch");
        RotationEngine engine = RotationEngine.builder().withClock(clock).withRandomSeed(7)
                .withPrefetchScheduler(producer)
                .withEndpoint(Fixtures.proxies("search", 6).withRotation(method).withLease(LeaseMode.EXCLUSIVE)
                        .withLeaseTtl(Duration.ofHours(1))
                        .withLimit(LimitConfig.of(3, Duration.ofMillis(100))).withLimit(LimitConfig.of(20, Duration.ofSeconds(1)))
                        .withPrefetch(new PrefetchConfig(QUEUE, Duration.ofMinutes(10))).build())
                .build();
        awaitFull(engine);
        clock.advance(Duration.ofMillis(1)); // so a lease acquired before now was prefetched
        Map<String, ConcurrentLinkedQueue<Long>> grants = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> holders = new ConcurrentHashMap<>();
        AtomicInteger doubleHolds = new AtomicInteger();
        AtomicInteger prefetchedHandouts = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
        long maxTicks = Duration.ofMinutes(50).toMillis(); // stop short of the lease TTL (see RotationConcurrencyTest)
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
            int worker = t;
            workers.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < ITERATIONS; i++) {
                    List<SecretLease> held = new ArrayList<>(2);
                    for (int j = 0; j < 2; j++) {
                        long before = clock.nanoTime();
                        if (engine.acquire("search") instanceof AcquireResult.Granted g) {
                            SecretLease l = g.lease();
                            if (l.acquiredAtNanos() < before) {
                                prefetchedHandouts.incrementAndGet();
                            }
                            grants.computeIfAbsent(l.secretId(), k -> new ConcurrentLinkedQueue<>()).add(l.acquiredAtNanos());
                            if (holders.computeIfAbsent(l.secretId(), k -> new AtomicInteger()).incrementAndGet() > 1) {
                                doubleHolds.incrementAndGet();
                            }
                            held.add(l);
                        }
                    }
                    for (SecretLease l : held) {
                        holders.get(l.secretId()).decrementAndGet(); // before release: a new holder may come right after
                        // now and then an upstream Retry-After, so prefetched entries of a cooling secret go stale
                        boolean refused = (i + worker) % 13 == 0;
                        engine.release(l, refused ? Outcome.status(503, Duration.ofMillis(50)) : Outcome.success());
                    }
                }
                return null;
            }));
        }
        // when
        start.countDown();
        for (Future<?> w : workers) {
            w.get(120, TimeUnit.SECONDS);
        }
        running.set(false);
        ticker.get(10, TimeUnit.SECONDS);
        pool.shutdown();
        engine.close();
        producer.close();
        // then
        assertThat(doubleHolds.get()).isZero();
        assertThat(prefetchedHandouts.get()).isPositive();
        for (var e : grants.entrySet()) {
            long[] times = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            assertWithinLimit(e.getKey(), times, 3, Duration.ofMillis(100).toNanos());
            assertWithinLimit(e.getKey(), times, 20, Duration.ofSeconds(1).toNanos());
        }
        assertThat(engine.prefetched("search")).isZero();
        assertThat(engine.stats("search")).allSatisfy(s -> assertThat(s.inUse()).as(s.secretId()).isZero());
    }

    /** Waits for the producer to fill the queue; the bound only keeps a broken build from hanging. */
    private static void awaitFull(RotationEngine engine) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (engine.prefetched("search") < QUEUE) {
            if (System.nanoTime() > giveUpAt) {
                fail("the producer did not fill the queue; it holds " + engine.prefetched("search"));
            }
            Thread.yield();
        }
    }
}
