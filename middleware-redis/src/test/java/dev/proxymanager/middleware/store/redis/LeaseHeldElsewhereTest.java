package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two processes (two engines, each with its own connection) share one Redis. A secret the other process has leased
 * frees when that process releases it, which this one cannot see: it must ask again soon, not wait out the lease's
 * TTL — else one replica starves another of an exclusive secret for a minute at a time.
 */
class LeaseHeldElsewhereTest {

    private static final EndpointConfig EXCLUSIVE = EndpointConfig.builder("one", SecretType.KEY)
            .withBaseUrl(URI.create("http://127.0.0.1:9")).withLease(LeaseMode.EXCLUSIVE)
            .withLeaseTtl(Duration.ofSeconds(60)).withSecret("only", "key-value-of-the-only-secret").build();

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private final RedisUsageStore storeA = freshStore();
    @AutoClose
    private final RedisUsageStore storeB = RedisUsageStore.builder(RedisTestServer.shared().uri()).build();
    private final RotationEngine processA = engine(storeA);
    private final RotationEngine processB = engine(storeB);

    private static RedisUsageStore freshStore() {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        return RedisUsageStore.builder(redis.uri()).build();
    }

    private RotationEngine engine(RedisUsageStore store) {
        return RotationEngine.builder().withClock(clock).withStore(store).withEndpoint(EXCLUSIVE).build();
    }

    @Test
    void aSecretReleasedByAnotherProcessIsGrantedWithinTheRecheckNotAfterTheLeaseTtl() {
        AcquireResult.Granted held = (AcquireResult.Granted) processA.acquire("one");

        AcquireResult refused = processB.acquire("one");
        assertThat(refused).isInstanceOf(AcquireResult.Denied.class);
        assertThat(((AcquireResult.Denied) refused).retryAfter()).isLessThanOrEqualTo(Duration.ofMillis(25));

        processA.release(held.lease(), Outcome.success());
        clock.advance(Duration.ofMillis(25));

        assertThat(processB.acquire("one")).isInstanceOf(AcquireResult.Granted.class);
    }

    @Test
    void whileTheOtherProcessStillHoldsItTheAnswerStaysLeased() {
        processA.acquire("one");
        processB.acquire("one");
        clock.advance(Duration.ofMillis(25));

        AcquireResult again = processB.acquire("one");

        assertThat(again).isInstanceOf(AcquireResult.Denied.class);
        assertThat(((AcquireResult.Denied) again).cause()).isEqualTo(UnavailableCause.LEASED);
    }
}
