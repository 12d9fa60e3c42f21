package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two processes (two engines, each with its own connection) share one Redis: what the upstream reported to one about
 * a key's quota holds for the other, which has never seen a response of that key.
 */
class UpstreamQuotaSharedTest {

    private static final long SECOND = 1_000_000_000L;
    private static final EndpointConfig ONE_KEY = EndpointConfig.builder("quota", SecretType.KEY)
            .withBaseUrl(URI.create("http://127.0.0.1:9")).withSecret("only", "key-value-of-the-only-secret").build();

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private final RedisUsageStore storeA = freshStore();
    @AutoClose
    private final RedisUsageStore storeB = RedisUsageStore.builder(RedisTestServer.shared().uri()).withRedisTime(false)
            .build();
    private final RotationEngine processA = engine(storeA);
    private final RotationEngine processB = engine(storeB);

    private static RedisUsageStore freshStore() {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        return RedisUsageStore.builder(redis.uri()).withRedisTime(false).build(); // the fake clock decides
    }

    private RotationEngine engine(RedisUsageStore store) {
        return RotationEngine.builder().withClock(clock).withStore(store).withEndpoint(ONE_KEY).build();
    }

    private Outcome reporting(long remaining, long resetInSeconds) {
        long now = clock.nanoTime();
        return Outcome.success().withQuota(new QuotaReading(
                List.of(new UpstreamQuota("core", 5000, remaining, now + resetInSeconds * SECOND, now)), 0));
    }

    @Test
    void anExhaustedReportToOneProcessKeepsTheKeyFromTheOtherUntilTheReset() {
        AcquireResult.Granted a = (AcquireResult.Granted) processA.acquire("quota");
        processA.release(a.lease(), reporting(0, 20));

        AcquireResult refused = processB.acquire("quota");

        assertThat(refused).isInstanceOfSatisfying(AcquireResult.Denied.class, d -> {
            assertThat(d.cause()).isEqualTo(UnavailableCause.COOLING_DOWN);
            assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(20));
        });
        clock.advance(Duration.ofSeconds(20));
        assertThat(processB.acquire("quota")).isInstanceOf(AcquireResult.Granted.class);
    }

    @Test
    void usesByEitherProcessCountTheReportedRemainingDown() {
        AcquireResult.Granted a = (AcquireResult.Granted) processA.acquire("quota");
        processA.release(a.lease(), reporting(2, 60));

        assertThat(processB.acquire("quota")).isInstanceOf(AcquireResult.Granted.class);
        assertThat(processA.acquire("quota")).isInstanceOf(AcquireResult.Granted.class);

        assertThat(processB.acquire("quota")).isInstanceOf(AcquireResult.Denied.class);
        assertThat(processB.stats("quota").get(0).upstream().remaining()).isZero();
        assertThat(processB.stats("quota").get(0).upstream().policy()).isEqualTo("core");
    }

    @Test
    void aCostOneProcessLearnedFromAResponseCountsForTheOther() {
        EndpointConfig sixAMinute = ONE_KEY.toBuilder().withLimit(
                dev.proxymanager.middleware.config.LimitConfig.of(6, Duration.ofMinutes(1))).build();
        processA.updateEndpoint(sixAMinute);
        processB.updateEndpoint(sixAMinute);
        AcquireResult.Granted a = (AcquireResult.Granted) processA.acquire("quota");

        processA.release(a.lease(), Outcome.success().withQuota(QuotaReading.NONE.withCost(5)));

        assertThat(processB.acquire("quota")).isInstanceOf(AcquireResult.Granted.class);
        assertThat(processB.acquire("quota")).isInstanceOfSatisfying(AcquireResult.Denied.class,
                d -> assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT));
    }
}
