package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.engine;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A grant released {@link Outcome#unused()} (nothing was sent with it) gives its use back to the store; one released
 * {@link Outcome#unanswered()} (a request may have gone out) keeps it. In-memory store.
 */
class UnusedGrantGiveBackTest {

    private static final LimitConfig ONE_PER_MINUTE = LimitConfig.of(1, Duration.ofMinutes(1));

    private final FakeClock clock = new FakeClock();

    private static long totalUses(RotationEngine engine) {
        return engine.stats("api").stream().mapToLong(SecretStats::totalUses).sum();
    }

    @Test
    void aKeyGivenBackUnusedIsGrantedAgainAtOnceUnderALimitOfOnePerMinute() {
        // given one key of 1 use a minute, granted and so at its limit
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(ONE_PER_MINUTE).build());
        SecretLease first = granted(engine.acquire("api"));
        assertThat(denied(engine.acquire("api")).cause()).isEqualTo(UnavailableCause.AT_LIMIT);

        // when it is given back unsent
        clock.advance(Duration.ofMillis(10));
        assertThat(engine.release(first, Outcome.unused())).isEqualTo(OutcomeKind.UNUSED);

        // then it is granted again at once, and only that use counts
        SecretLease again = granted(engine.acquire("api"));
        assertThat(again.secretId()).isEqualTo("k1");
        assertThat(totalUses(engine)).isEqualTo(1);
        assertThat(engine.stats("api").get(0).windows().get(0).uses()).isEqualTo(1);
    }

    @Test
    void aKeyReleasedUnansweredKeepsItsUseCounted() {
        // given the same key, granted
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(ONE_PER_MINUTE).build());
        SecretLease first = granted(engine.acquire("api"));

        // when a request may have gone out with it, with no answer to judge it by
        clock.advance(Duration.ofMillis(10));
        assertThat(engine.release(first, Outcome.unanswered())).isEqualTo(OutcomeKind.UNUSED);

        // then its use still holds the window, and health is untouched
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(totalUses(engine)).isEqualTo(1);
        assertThat(engine.stats("api").get(0).failures()).isZero();
    }

    @Test
    void anExclusiveLeaseGivenBackFreesTheKeyForTheNextCaller() {
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(2, Duration.ofMinutes(1)))
                .withLease(LeaseMode.EXCLUSIVE).withLeaseTtl(Duration.ofMinutes(5)).build());
        SecretLease first = granted(engine.acquire("api"));
        assertThat(denied(engine.acquire("api")).cause()).isEqualTo(UnavailableCause.LEASED);

        engine.release(first, Outcome.unused());

        // both uses of the window are there for the next callers
        SecretLease second = granted(engine.acquire("api"));
        engine.release(second, Outcome.success());
        granted(engine.acquire("api"));
        assertThat(totalUses(engine)).isEqualTo(2);
    }

    @Test
    void aWeightedGrantGivenBackReturnsItsUnitsToItsRouteBucket() {
        // given a search bucket of 3 a minute, filled by one call of cost 3
        RouteMatch search = new RouteMatch(List.of(), "/search/*");
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(50, Duration.ofHours(1)))
                .withLimit(LimitConfig.of(3, Duration.ofMinutes(1)).matching(search)).build());
        CallRoute heavySearch = new CallRoute("GET", "/search/code", 3);
        SecretLease heavy = granted(engine.acquire("api", null, heavySearch));
        assertThat(denied(engine.acquire("api", null, CallRoute.of("GET", "/search/code"))).cause())
                .isEqualTo(UnavailableCause.AT_LIMIT);

        // when it is given back unsent
        engine.release(heavy, Outcome.unused());

        // then the bucket admits three search calls again
        for (int i = 0; i < 3; i++) {
            granted(engine.acquire("api", null, CallRoute.of("GET", "/search/code")));
        }
        assertThat(totalUses(engine)).isEqualTo(3);
    }
}
