package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UnavailableCause;
import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three separate JVMs ({@link UsageLoadWorker}) share one real redis-server and drive one endpoint against a loopback
 * upstream that counts per secret by itself — the limits must hold for the fleet, not per process.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisMultiProcessTest {

    static final int LIMIT = 4;
    static final Duration WINDOW = Duration.ofSeconds(2);
    static final Duration LOAD_LEASE_TTL = Duration.ofSeconds(3);
    static final Duration LEASE_TTL = Duration.ofSeconds(8);
    /**
     * Uses are timed by the store when granted and by the upstream when they arrive; the gap (send latency, long on a
     * loaded machine) can bunch arrivals, so the upstream checks windows this much shorter than the limit's. Without
     * a shared store the three processes send three times the limit, which even these shorter windows catch.
     */
    private static final Duration ARRIVAL_SLACK = Duration.ofSeconds(1);

    private static RedisTestServer redis;
    private static HttpServer upstream;
    private static final Map<String, List<Long>> arrivals = new ConcurrentHashMap<>();
    /** Milliseconds from grant to arrival, from the workers' grant times: only to explain a failure. */
    private static final List<Long> sendDelays = new CopyOnWriteArrayList<>();
    private static final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> maxInFlight = new ConcurrentHashMap<>();

    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        redis = RedisTestServer.dedicated();
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        upstream.setExecutor(Executors.newFixedThreadPool(16));
        upstream.createContext("/", exchange -> {
            long at = System.nanoTime();
            String secret = String.valueOf(exchange.getRequestHeaders().getFirst("X-Secret"));
            if (secret.equals("warm")) {
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
                return;
            }
            long grantedAt = Long.parseLong(exchange.getRequestHeaders().getFirst("X-Granted-At"));
            sendDelays.add((dev.proxymanager.middleware.clock.Clock.system().nanoTime() - grantedAt) / 1_000_000);
            AtomicInteger now = inFlight.computeIfAbsent(secret, k -> new AtomicInteger());
            int holders = now.incrementAndGet();
            maxInFlight.computeIfAbsent(secret, k -> new AtomicInteger()).accumulateAndGet(holders, Math::max);
            arrivals.computeIfAbsent(secret, k -> new CopyOnWriteArrayList<>()).add(at);
            now.decrementAndGet(); // before answering: the caller releases its lease only after the answer
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        upstream.start();
    }

    @AfterAll
    static void stop() {
        upstream.stop(0);
        ((java.util.concurrent.ExecutorService) upstream.getExecutor()).shutdownNow();
        redis.close();
    }

    @AfterEach
    void killLeftovers() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void threeProcessesNeverExceedAPerSecretLimitOrShareALeaseEvenWhenOneIsKilled() throws Exception {
        // given three processes with three threads each, on one endpoint of 4 keys x 4 requests/2 s, exclusive leases
        String url = "http://127.0.0.1:" + upstream.getAddress().getPort() + "/";
        List<ChildJvm> workers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            workers.add(spawn("load", redis.uri(), url, "8000", "3"));
        }
        for (ChildJvm w : workers) {
            w.awaitLine("READY", Duration.ofSeconds(30));
        }
        for (ChildJvm w : workers) {
            w.tell("GO");
        }

        // when they run, and the third is killed (SIGKILL, leases still held) once the load is under way
        await().atMost(Duration.ofSeconds(20)).until(() -> arrivals.values().stream().mapToInt(List::size).sum() >= 16);
        long killedAt = System.nanoTime();
        workers.get(2).process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        String done0 = workers.get(0).awaitLine("DONE", Duration.ofSeconds(30));
        String done1 = workers.get(1).awaitLine("DONE", Duration.ofSeconds(30));

        // then, counted at the upstream: no key ever exceeded its limit in any window, nor had two holders at once
        long window = WINDOW.minus(ARRIVAL_SLACK).toNanos();
        int total = 0;
        for (Map.Entry<String, List<Long>> e : arrivals.entrySet()) {
            List<Long> times = new ArrayList<>(e.getValue());
            times.sort(null);
            total += times.size();
            for (int i = 0; i + LIMIT < times.size(); i++) {
                assertThat(times.get(i + LIMIT) - times.get(i))
                        .as("key %s: %d uses within %d ms (largest send delay %d ms)", e.getKey(), LIMIT + 1,
                                window / 1_000_000, sendDelays.stream().mapToLong(Long::longValue).max().orElse(0))
                        .isGreaterThanOrEqualTo(window);
            }
            assertThat(maxInFlight.get(e.getKey())).as("holders of %s at once", e.getKey()).hasValue(1);
        }
        // the load was real: both survivors were served, and the keys kept being used after the kill
        assertThat(arrivals.keySet()).containsExactlyInAnyOrder("k1", "k2", "k3", "k4");
        assertThat(grantedIn(done0)).as("uses granted to worker 0; its output: %s", workers.get(0).lines).isPositive();
        assertThat(grantedIn(done1)).as("uses granted to worker 1; its output: %s", workers.get(1).lines).isPositive();
        assertThat(total).isGreaterThan(30);
        long freedBy = killedAt + LOAD_LEASE_TTL.toNanos();
        for (Map.Entry<String, List<Long>> e : arrivals.entrySet()) {
            assertThat(e.getValue()).as("uses of %s after the killed process's leases expired", e.getKey())
                    .anyMatch(t -> t > freedBy);
        }
    }

    @Test
    void killedProcessLosesItsLeaseWithinTheTtl() throws Exception {
        try (RedisUsageStore store = RedisUsageStore.builder(redis.uri()).build()) {
            RotationEngine engine = RotationEngine.builder().withStore(store)
                    .withEndpoint(UsageLoadWorker.heldEndpoint()).build();
            assertThat(store.ping()).isTrue();
            // given another process holding the only key of an exclusive endpoint
            ChildJvm holder = spawn("hold", redis.uri());
            holder.awaitLine("HOLDING", Duration.ofSeconds(30));
            assertThat(engine.acquire("held")).isInstanceOfSatisfying(AcquireResult.Denied.class,
                    d -> assertThat(d.cause()).isEqualTo(UnavailableCause.LEASED));

            // when that process dies without releasing
            holder.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

            // then the key is handed out again within the lease TTL
            await().atMost(LEASE_TTL.plusSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> engine.acquire("held") instanceof AcquireResult.Granted);
        }
    }

    /** The granted count of a worker's {@code DONE <granted> unavailable=<n>} line. */
    private static long grantedIn(String doneLine) {
        return Long.parseLong(doneLine.split(" ")[1]);
    }

    private ChildJvm spawn(String... args) throws IOException {
        ChildJvm worker = ChildJvm.start(UsageLoadWorker.class,
                List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), args);
        processes.add(worker.process);
        return worker;
    }
}
