package dev.proxymanager.middleware.benchmarks;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.PrefetchConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.CallRoute;
import dev.proxymanager.middleware.rotation.RotationEngine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One acquire + release of the rotation engine (system clock, in-memory store, one limit per secret that never
 * binds, success outcome), with 10, 1 000 and 100 000 secrets, on 1 and 2 threads. Sample mode gives the median.
 * {@code -p failures=0.05} makes that share of outcomes a 502 instead, so the default health rules cool secrets down
 * and the engine's choice keeps changing (health-weighted's hot set churns). {@code -p prefetch=8} gives the endpoint a
 * ready queue of 8: acquire then takes a secret the producer thread acquired ahead (its cost with an in-memory store,
 * where there is no round trip to hide).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RotationEngineBenchmark {

    @Param({"10", "1000", "100000"})
    public int secrets;

    @Param({"least-used", "round-robin", "health-weighted"})
    public String rotation;

    /** Share of releases reported as a 502 (0 = all succeed). */
    @Param({"0"})
    public double failures;

    /** The endpoint's ready queue size (0 = no queue). */
    @Param({"0"})
    public int prefetch;

    /** Whether each release carries an upstream quota report (far from exhausted), as quota headers would. */
    @Param({"false"})
    public boolean quota;

    /**
     * Whether the endpoint has a route bucket (a limit with a {@code match}, never binding) and every other call
     * counts in it: the routed path (a candidate per bucket combination, the ready queue skipped).
     */
    @Param({"false"})
    public boolean routes;

    private static final CallRoute IN_BUCKET = CallRoute.of("GET", "/search/code");
    private static final CallRoute OUTSIDE = CallRoute.of("GET", "/repos/a/b");
    private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();

    private RotationEngine engine;

    @Setup(Level.Trial)
    public void setUp() {
        RotationMethod method = switch (rotation) {
            case "least-used" -> RotationMethod.LEAST_USED;
            case "round-robin" -> RotationMethod.ROUND_ROBIN;
            default -> RotationMethod.HEALTH_WEIGHTED;
        };
        EndpointConfig.Builder b = EndpointConfig.builder("bench", SecretType.PROXY).withRotation(method)
                .withLimit(LimitConfig.of(1_000_000, Duration.ofSeconds(1)))
                .withPrefetch(PrefetchConfig.of(prefetch));
        if (routes) {
            b.withLimit(LimitConfig.of(1_000_000, Duration.ofSeconds(1))
                    .matching(new RouteMatch(List.of(), "/search/*")));
        }
        for (int i = 0; i < secrets; i++) {
            b.withSecret("p" + i, "http://127.0.0.1:" + (10_000 + i % 50_000));
        }
        engine = RotationEngine.builder().withEndpoint(b.build()).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    private boolean acquireRelease() {
        AcquireResult r = routes ? engine.acquire("bench", null, (calls.getAndIncrement() & 1) == 0 ? IN_BUCKET
                : OUTSIDE) : engine.acquire("bench");
        if (r instanceof AcquireResult.Granted g) {
            boolean failed = failures > 0 && java.util.concurrent.ThreadLocalRandom.current().nextDouble() < failures;
            Outcome outcome = failed ? Outcome.status(502) : Outcome.success();
            if (quota) {
                long now = engine.clock().nanoTime();
                outcome = outcome.withQuota(new QuotaReading(
                        List.of(new UpstreamQuota("", 1_000_000, 900_000, now + 60_000_000_000L, now)), 0));
            }
            engine.release(g.lease(), outcome);
            return true;
        }
        return false;
    }

    @Benchmark
    @Threads(1)
    public boolean acquireRelease1Thread() {
        return acquireRelease();
    }

    @Benchmark
    @Threads(2)
    public boolean acquireRelease2Threads() {
        return acquireRelease();
    }
}
