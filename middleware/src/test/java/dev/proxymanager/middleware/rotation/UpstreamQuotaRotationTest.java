package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;

/** The engine honours the quota an upstream reports, beside its own limits; the stricter wins. */
class UpstreamQuotaRotationTest {

    private static final long SECOND = 1_000_000_000L;
    private final FakeClock clock = new FakeClock();
    private final List<SecretStateEvent> events = new java.util.ArrayList<>();

    private RotationEngine engine(int keys) {
        return RotationEngine.builder().withClock(clock).withRandomSeed(7).onStateChange(events::add)
                .withEndpoint(keys("api", keys).withLimit(LimitConfig.of(1000, Duration.ofHours(1))).build()).build();
    }

    private Outcome okReporting(long remaining, long resetInSeconds) {
        long now = clock.nanoTime();
        return Outcome.success().withQuota(new QuotaReading(
                List.of(new UpstreamQuota("", 100, remaining, now + resetInSeconds * SECOND, now)), 0));
    }

    @Test
    void aKeyTheUpstreamReportsExhaustedIsNotHandedOutBeforeTheResetThoughOurWindowIsFree() {
        // given one key, far under our own limit of 1000/h
        RotationEngine engine = engine(1);

        // when the upstream reports nothing left until 30 s from now
        engine.release(granted(engine.acquire("api")), okReporting(0, 30));

        // then it is not handed out before then, and is after
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(UnavailableCause.COOLING_DOWN);
        assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.COOLDOWN);
            assertThat(e.until()).isEqualTo(dev.proxymanager.middleware.clock.Clock.toInstant(
                    clock.nanoTime() + 30 * SECOND));
            assertThat(e.reason()).isEqualTo("upstream quota exhausted");
        });
        clock.advance(Duration.ofSeconds(30));
        granted(engine.acquire("api"));
    }

    @Test
    void aKeyWhoseRemainingIsBelowTheCallsInFlightIsNotHandedOutAgain() {
        // given three calls in flight on the only key
        RotationEngine engine = engine(1);
        SecretLease a = granted(engine.acquire("api"));
        SecretLease b = granted(engine.acquire("api"));
        SecretLease c = granted(engine.acquire("api"));

        // when the first comes back reporting 2 left: the two still in flight will take them
        engine.release(a, okReporting(2, 60));

        // then the key is not handed out again until the reset
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofSeconds(60));
        engine.release(b, Outcome.success());
        engine.release(c, Outcome.success());
    }

    @Test
    void theRemainingCountsDownWithOurOwnUsesUntilTheNextReport() {
        // given the upstream reports 2 left
        RotationEngine engine = engine(1);
        engine.release(granted(engine.acquire("api")), okReporting(2, 60));

        // when two more calls go out without reporting back
        granted(engine.acquire("api"));
        granted(engine.acquire("api"));

        // then the third is refused, and stats show the estimate beside our counts
        denied(engine.acquire("api"));
        SecretStats s = engine.stats("api").get(0);
        assertThat(s.totalUses()).isEqualTo(3);
        assertThat(s.upstream().remaining()).isZero();
        assertThat(s.upstream().limit()).isEqualTo(100);
    }

    @Test
    void theOtherKeysServeWhileOneIsExhaustedUpstream() {
        RotationEngine engine = engine(2);
        SecretLease first = granted(engine.acquire("api"));
        engine.release(first, okReporting(0, 30));

        for (int i = 0; i < 5; i++) {
            SecretLease l = granted(engine.acquire("api"));
            assertThat(l.secretId()).isNotEqualTo(first.secretId());
            engine.release(l, Outcome.success());
        }
    }

    @Test
    void aCostReportedByTheResponseIsDebitedAsUsesAtTheCallsTime() {
        // given one key allowed 10 uses a minute
        RotationEngine engine = RotationEngine.builder().withClock(clock).withRandomSeed(7)
                .withEndpoint(keys("api", 1).withLimit(LimitConfig.of(10, Duration.ofMinutes(1))).build()).build();
        Outcome cost4 = Outcome.success().withQuota(QuotaReading.NONE.withCost(4));

        // when two calls each cost 4 by their responses
        engine.release(granted(engine.acquire("api")), cost4);
        engine.release(granted(engine.acquire("api")), cost4);

        // then 8 of 10 are used; a third call fits (9), its cost takes the window to 12, and the next must wait
        assertThat(engine.stats("api").get(0).windows().get(0).uses()).isEqualTo(8);
        engine.release(granted(engine.acquire("api")), cost4);
        assertThat(denied(engine.acquire("api")).cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(engine.stats("api").get(0).totalUses()).isEqualTo(12);
    }

    @Test
    void aMalformedCostIsIgnoredAndCounted() {
        RotationEngine engine = engine(1);
        engine.release(granted(engine.acquire("api")),
                Outcome.success().withQuota(QuotaReading.NONE.withCost(dev.proxymanager.middleware.quota.QuotaHeaders
                        .MALFORMED_COST)));

        assertThat(engine.stats("api").get(0).totalUses()).isEqualTo(1);
        assertThat(engine.malformedQuotaHeaders("api")).isEqualTo(1);
    }
}
