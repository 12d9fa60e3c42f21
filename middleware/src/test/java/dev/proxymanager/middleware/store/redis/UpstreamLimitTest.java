package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Never over a limit" holds where it matters, at the upstream, counted by arrival: three engines in separate JVMs on
 * one real Redis, clients far above the capacity (24 closed-loop callers against 5 keys x 20 per 2 s = 50 requests/s),
 * and the upstream refuses every request over its limit. With Redis's clock, the guard band and re-stamping, it
 * refuses none, and the fleet still gets at least 90 % of what the upstream allows.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UpstreamLimitTest {

    @Test
    void threeProcessesAtFullLoadNeverExceedTheLimitAsTheUpstreamCountsIt() throws Exception {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            UpstreamLimitRun.Report r = UpstreamLimitRun.run(redis.uri(), new UpstreamLimitRun.Settings(5, 20,
                    Duration.ofSeconds(2), "25ms", 3, 8, Duration.ofSeconds(20)));

            assertThat(r.violations()).as("requests the upstream refused; %s", r).isZero();
            assertThat(r.capacityPercent()).as("capacity delivered; %s; workers: %s", r, r.workerOutput())
                    .isGreaterThanOrEqualTo(90);
        }
    }
}
