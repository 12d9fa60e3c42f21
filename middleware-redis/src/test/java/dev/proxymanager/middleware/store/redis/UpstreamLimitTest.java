package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Never over a limit" holds where it matters, at the upstream, counted by arrival: three engines in separate JVMs on
 * one real Redis, clients far above the capacity (12 closed-loop callers, each asking again within 20 ms of a refusal,
 * against 5 keys x 40 per 4 s = 50 requests/s), and the upstream refuses (429) every request over its limit. With
 * Redis's clock, a guard band and re-stamping it refuses none, and the fleet still gets at least 90 % of
 * what the upstream allows. With no guard band it refuses some (docs/benchmarks.md, "Limits at the upstream").
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UpstreamLimitTest {

    /**
     * Twice the default: CI shares 2 cores between three engines, Redis and the upstream, and a process stalled for
     * longer than the margin between recording a use and writing it is exactly what the margin is for. On a 4 s
     * window it costs 5 % (on the benchmark's 2 s window it would leave no room above 90 %). The benchmark
     * (upstream-limits.sh) measures the default.
     */
    private static final String CI_MARGIN = "200ms";

    @Test
    void threeProcessesAtFullLoadNeverExceedTheLimitAsTheUpstreamCountsIt() throws Exception {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            UpstreamLimitRun.Report r = UpstreamLimitRun.run(redis.uri(), new UpstreamLimitRun.Settings(5, 40,
                    Duration.ofSeconds(4), CI_MARGIN, 3, 4, Duration.ofSeconds(20)));
            System.out.println("UpstreamLimitTest: " + r); // the numbers, for the CI log

            assertThat(r.violations()).as("requests the upstream refused; %s", r).isZero();
            assertThat(r.capacityPercent()).as("capacity delivered; %s; workers: %s", r, r.workerOutput())
                    .isGreaterThanOrEqualTo(90);
        }
    }
}
