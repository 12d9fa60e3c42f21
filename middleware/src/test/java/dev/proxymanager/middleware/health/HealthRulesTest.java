package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.config.HealthPolicy;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class HealthRulesTest {

    private static final long S = 1_000_000_000L;
    private final SplittableRandom random = new SplittableRandom(7);

    private static HealthPolicy policy(int windowFailures, int consecutive, boolean remove) {
        return new HealthPolicy(Set.of(401, 403, 429), true, windowFailures, Duration.ofMinutes(5), Duration.ofMinutes(10),
                consecutive, Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofSeconds(30), remove);
    }

    @Test
    void successResetsConsecutiveFailuresAndCausesNothing() {
        HealthRecord r = new HealthRecord(30);
        HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(500), 0, random);
        HealthVerdict v = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(404), S, random);
        assertThat(v).isEqualTo(HealthVerdict.NOTHING);
        assertThat(r.consecutiveFailures()).isZero();
        assertThat(r.successDelta()).isZero();
    }

    @Test
    void banBackoffDoublesUpToTheCapWithJitterBelowBase() {
        HealthPolicy p = policy(1000, 1000, false);
        HealthRecord r = new HealthRecord(1000);
        long[] expectedBase = {2, 4, 8, 16, 30, 30};
        for (long base : expectedBase) {
            HealthVerdict v = HealthRules.apply(p, r, Outcome.status(429), 0, random);
            assertThat(v.ban()).isTrue();
            assertThat(v.cooldownUntil()).isBetween(base * S, base * S + 2 * S);
        }
        assertThat(HealthRules.backoff(p, 3)).isEqualTo(Duration.ofSeconds(8));
    }

    @Test
    void connectionErrorIsABanOnlyWhenConfigured() {
        HealthPolicy noBan = new HealthPolicy(Set.of(), false, 30, Duration.ofMinutes(5), Duration.ofMinutes(10), 100,
                Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5), false);
        HealthVerdict v = HealthRules.apply(noBan, new HealthRecord(30), Outcome.connectionError(), 0, random);
        assertThat(v.failure()).isTrue();
        assertThat(v.cooldownUntil()).isZero();
        assertThat(HealthRules.apply(HealthPolicy.DEFAULT, new HealthRecord(30), Outcome.connectionError(), 0, random).ban())
                .isTrue();
    }

    @Test
    void failuresWithinWindowStartACooldown() {
        // seed D: more than N failures within 5 minutes → 10 minutes off (N = 3 here)
        HealthPolicy p = policy(3, 1000, false);
        HealthRecord r = new HealthRecord(3);
        assertThat(HealthRules.apply(p, r, Outcome.status(500), 0, random).cooldownUntil()).isZero();
        assertThat(HealthRules.apply(p, r, Outcome.timeout(), 60 * S, random).cooldownUntil()).isZero();
        HealthVerdict v = HealthRules.apply(p, r, Outcome.status(502), 120 * S, random);
        assertThat(v.cooldownUntil()).isEqualTo(720 * S);
        assertThat(v.reason()).isEqualTo("3 failures within 5 min");
    }

    @Test
    void failuresSpreadBeyondTheWindowDoNotTrigger() {
        HealthPolicy p = policy(3, 1000, false);
        HealthRecord r = new HealthRecord(3);
        for (int i = 0; i < 10; i++) {
            assertThat(HealthRules.apply(p, r, Outcome.status(500), i * 200 * S, random).cooldownUntil()).isZero();
        }
    }

    @Test
    void consecutiveFailuresStartACooldownEveryMth() {
        HealthPolicy p = policy(1000, 4, false);
        HealthRecord r = new HealthRecord(1000);
        for (int i = 1; i <= 8; i++) {
            HealthVerdict v = HealthRules.apply(p, r, Outcome.status(500), i * 1000 * S, random);
            assertThat(v.cooldownUntil() > 0).isEqualTo(i % 4 == 0);
        }
        assertThat(r.consecutiveFailures()).isEqualTo(8);
    }

    @Test
    void a429AtTheWindowEdgeCoolsUntilTheNextFreeSlotWithoutGrowingABanStreak() {
        // given a secret whose window was full at the grant, next free slot at 2 s
        HealthRecord r = new HealthRecord(30);
        LimitState atLimit = LimitState.atLimitUntil(2 * S);
        // when the upstream answers 429 twice in a row
        HealthVerdict first = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429), atLimit, S / 100, random);
        HealthVerdict second = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429), atLimit, S / 50, random);
        // then both cool it exactly until the slot frees: no ban, no backoff growth, no failure counted
        for (HealthVerdict v : List.of(first, second)) {
            assertThat(v.ban()).isFalse();
            assertThat(v.failure()).isFalse();
            assertThat(v.cooldownUntil()).isEqualTo(2 * S);
        }
        assertThat(r.consecutiveFailures()).isZero();
        assertThat(r.failures()).isZero();
    }

    @Test
    void a429FarFromAnyLimitWithoutRetryAfterIsABanWhoseBackoffGrows() {
        HealthRecord r = new HealthRecord(30);
        HealthVerdict first = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429), LimitState.UNKNOWN, 0,
                random);
        HealthVerdict second = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429), LimitState.UNKNOWN, 0,
                random);
        assertThat(first.ban()).isTrue();
        assertThat(first.cooldownUntil()).isBetween(2 * S, 4 * S);
        assertThat(second.ban()).isTrue();
        assertThat(second.cooldownUntil()).isBetween(4 * S, 6 * S);
    }

    @Test
    void aRetryAfterLongerThanTheWindowWinsOverTheNextFreeSlot() {
        HealthRecord r = new HealthRecord(30);
        HealthVerdict v = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429, Duration.ofSeconds(30)),
                LimitState.atLimitUntil(2 * S), 0, random);
        assertThat(v.ban()).isFalse();
        assertThat(v.cooldownUntil()).isEqualTo(30 * S);
        assertThat(v.reason()).contains("Retry-After 30 s");
    }

    @Test
    void a429WithRetryAfterFarFromAnyLimitCoolsForTheRetryAfterWithoutABan() {
        HealthRecord r = new HealthRecord(30);
        HealthVerdict v = HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.status(429, Duration.ofSeconds(1)),
                LimitState.UNKNOWN, 0, random);
        assertThat(v.ban()).isFalse();
        assertThat(v.cooldownUntil()).isEqualTo(S);
        assertThat(r.consecutiveFailures()).isZero();
    }

    @Test
    void a429AtALimitWhoseSlotFreedAlreadyCausesNoCooldown() {
        HealthVerdict v = HealthRules.apply(HealthPolicy.DEFAULT, new HealthRecord(30), Outcome.status(429),
                LimitState.atLimitUntil(S), 2 * S, random);
        assertThat(v).isEqualTo(HealthVerdict.NOTHING);
    }

    @Test
    void retryAfterSetsAtLeastThatCooldownEvenOnSuccessStatus() {
        HealthVerdict v = HealthRules.apply(HealthPolicy.DEFAULT, new HealthRecord(30), Outcome.status(200, Duration.ofSeconds(90)),
                0, random);
        assertThat(v.failure()).isFalse();
        assertThat(v.cooldownUntil()).isEqualTo(90 * S);
    }

    @Test
    void removeUnhealthyRemovesOnBanButNotOnRetryAfterAlone() {
        HealthPolicy p = policy(30, 100, true);
        assertThat(HealthRules.apply(p, new HealthRecord(30), Outcome.status(403), 0, random).remove()).isTrue();
        assertThat(HealthRules.apply(p, new HealthRecord(30), Outcome.status(503, Duration.ofSeconds(5)), 0, random).remove())
                .isFalse();
    }

    @Test
    void unusedOutcomeChangesNothing() {
        HealthRecord r = new HealthRecord(30);
        assertThat(HealthRules.apply(HealthPolicy.DEFAULT, r, Outcome.unused(), 0, random)).isEqualTo(HealthVerdict.NOTHING);
        assertThat(r.successes() + r.failures()).isZero();
    }

    @Test
    void thompsonDrawsFavourTheBetterRecord() {
        HealthRecord good = new HealthRecord(1);
        HealthRecord bad = new HealthRecord(1);
        for (int i = 0; i < 50; i++) {
            HealthRules.apply(HealthPolicy.DEFAULT, good, Outcome.success(), 0, random);
            HealthRules.apply(HealthPolicy.DEFAULT, bad, i % 2 == 0 ? Outcome.success() : Outcome.status(500), 0, random);
        }
        int goodWins = 0;
        for (int i = 0; i < 1000; i++) {
            if (ThompsonSampler.draw(good, random) > ThompsonSampler.draw(bad, random)) {
                goodWins++;
            }
        }
        assertThat(goodWins).isGreaterThan(950);
        double mean = 0;
        for (int i = 0; i < 4000; i++) {
            mean += ThompsonSampler.beta(3, 1, random) / 4000;
        }
        assertThat(mean).isBetween(0.72, 0.78); // Beta(3,1) has mean 0.75
        double approx = 0;
        for (int i = 0; i < 4000; i++) {
            double d = ThompsonSampler.beta(80, 20, random); // large counts: normal approximation
            assertThat(d).isBetween(0.0, 1.0);
            approx += d / 4000;
        }
        assertThat(approx).isBetween(0.79, 0.81);
    }
}
