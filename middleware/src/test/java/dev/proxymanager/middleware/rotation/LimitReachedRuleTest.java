package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;

/** The engine passes its window state to the 429 rule: a 429 at a limit cools the key, one far from it bans it. */
class LimitReachedRuleTest {

    private final FakeClock clock = new FakeClock();
    private final List<SecretStateEvent> events = new ArrayList<>();

    private RotationEngine engine(int requests, Duration per) {
        return RotationEngine.builder().withClock(clock).withRandomSeed(42).onStateChange(events::add)
                .withEndpoint(keys("api", 1).withLimit(LimitConfig.of(requests, per)).build()).build();
    }

    @Test
    void a429AtTheWindowEdgeCoolsTheKeyUntilItsSlotFreesAndTwoInARowDoNotDouble() {
        // given one key allowed 2 uses in any 2 s, used at 0 s and at 1 s (that use fills the window)
        RotationEngine engine = engine(2, Duration.ofSeconds(2));
        long start = clock.nanoTime();
        engine.release(granted(engine.acquire("api")), Outcome.success());
        clock.advance(Duration.ofSeconds(1));
        SecretLease edge = granted(engine.acquire("api"));
        clock.advance(Duration.ofMillis(5));

        // when the upstream, counting by arrival, answers 429
        OutcomeKind kind = engine.release(edge, Outcome.status(429));

        // then it is a cooldown until the window's next free slot (2 s), not a ban
        assertThat(kind).isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.COOLDOWN);
            assertThat(e.until()).isEqualTo(Clock.toInstant(start + Duration.ofSeconds(2).toNanos()));
        });
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofMillis(995));

        // and the next 429 at the edge again cools it only until its own next free slot (3 s): no backoff growth
        clock.advance(Duration.ofMillis(995));
        SecretLease next = granted(engine.acquire("api"));
        clock.advance(Duration.ofMillis(5));
        assertThat(engine.release(next, Outcome.status(429))).isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(events).hasSize(2).last().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.COOLDOWN);
            assertThat(e.until()).isEqualTo(Clock.toInstant(start + Duration.ofSeconds(3).toNanos()));
        });
    }

    @Test
    void a429FarFromAnyLimitIsABanWhoseBackoffGrows() {
        // given one key allowed 100 uses in any 2 s, barely used
        RotationEngine engine = engine(100, Duration.ofSeconds(2));

        // when the upstream answers 429 twice, without Retry-After
        assertThat(engine.release(granted(engine.acquire("api")), Outcome.status(429)))
                .isEqualTo(OutcomeKind.BANNED);
        AcquireResult.Denied first = denied(engine.acquire("api"));
        clock.advance(first.retryAfter());
        engine.release(granted(engine.acquire("api")), Outcome.status(429));
        AcquireResult.Denied second = denied(engine.acquire("api"));

        // then each is a ban, and the backoff doubles
        assertThat(events).extracting(SecretStateEvent::kind)
                .containsExactly(SecretStateEvent.Kind.BAN, SecretStateEvent.Kind.BAN);
        assertThat(first.cause()).isEqualTo(UnavailableCause.COOLING_DOWN);
        assertThat(first.retryAfter()).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertThat(second.retryAfter()).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(6));
    }

    @Test
    void aRetryAfterLongerThanTheWindowWins() {
        RotationEngine engine = engine(1, Duration.ofSeconds(2));
        SecretLease edge = granted(engine.acquire("api"));

        OutcomeKind kind = engine.release(edge, Outcome.status(429, Duration.ofSeconds(30)));

        assertThat(kind).isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(events).singleElement().extracting(SecretStateEvent::kind)
                .isEqualTo(SecretStateEvent.Kind.COOLDOWN);
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofSeconds(30));
    }
}
