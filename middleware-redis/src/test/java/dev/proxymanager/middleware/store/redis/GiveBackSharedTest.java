package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two engines (two processes' worth: each its own Redis connection) share one Redis, deciding on Redis's clock (the
 * give-back finds the use by its match window): a key one of them gives back unused (nothing was sent with it) is
 * granted at once to the other under a limit of one use a minute; one released unanswered (a request may have gone
 * out) keeps its use.
 */
class GiveBackSharedTest {

    private static final EndpointConfig API = EndpointConfig.builder("api", SecretType.KEY)
            .withBaseUrl(URI.create("http://127.0.0.1:9")).withLimit(LimitConfig.of(1, Duration.ofMinutes(1)))
            .withSecret("k1", "give-back-key-value-1").build();

    private static RotationEngine engine(RedisUsageStore store) {
        return RotationEngine.builder().withStore(store).withEndpoint(API).build();
    }

    private static SecretLease granted(AcquireResult r) {
        assertThat(r).isInstanceOf(AcquireResult.Granted.class);
        return ((AcquireResult.Granted) r).lease();
    }

    private static UnavailableCause refusal(AcquireResult r) {
        assertThat(r).isInstanceOf(AcquireResult.Denied.class);
        return ((AcquireResult.Denied) r).cause();
    }

    @Test
    void aKeyOneProcessGivesBackUnusedIsGrantedAtOnceToTheOther() {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        try (RedisUsageStore storeA = RedisUsageStore.builder(redis.uri()).build();
             RedisUsageStore storeB = RedisUsageStore.builder(redis.uri()).build();
             RotationEngine a = engine(storeA);
             RotationEngine b = engine(storeB)) {
            // (the first answers load the function library: the stores learn Redis's clock from the next ones, and
            // a give-back finds its use within 50 ms of where its grant's time puts it on Redis's clock)
            a.stats("api");
            b.stats("api");
            // given the key granted in process a: its minute is used
            SecretLease first = granted(a.acquire("api"));
            assertThat(a.stats("api").getFirst().windows().getFirst().uses()).isEqualTo(1);

            // when a gives it back unsent
            a.release(first, Outcome.unused());

            // then b gets it at once, and only that use counts, for both
            SecretLease second = granted(b.acquire("api"));
            assertThat(b.stats("api").getFirst().totalUses()).isEqualTo(1);
            assertThat(a.stats("api").getFirst().windows().getFirst().uses()).isEqualTo(1);
            assertThat(refusal(a.acquire("api"))).isEqualTo(UnavailableCause.AT_LIMIT);

            // and a key released unanswered keeps its use
            b.release(second, Outcome.unanswered());
            assertThat(refusal(a.acquire("api"))).isEqualTo(UnavailableCause.AT_LIMIT);
            assertThat(b.stats("api").getFirst().totalUses()).isEqualTo(1);
        }
    }
}
