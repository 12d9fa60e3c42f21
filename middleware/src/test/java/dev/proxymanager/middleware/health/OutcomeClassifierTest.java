package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.config.BanBodyPattern;
import dev.proxymanager.middleware.config.HealthPolicy;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class OutcomeClassifierTest {

    private static final long S = 1_000_000_000L;

    private static HealthPolicy banning(Integer... statuses) {
        return new HealthPolicy(Set.of(statuses), false, 30, Duration.ofMinutes(5), Duration.ofMinutes(10), 100,
                Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5), false);
    }

    @Test
    void banStatusesDecideWhatIsABanAnd429OtherwiseIsRateLimited() {
        assertThat(OutcomeClassifier.classifyStatus(429, banning(401, 403, 429))).isEqualTo(OutcomeKind.BANNED);
        assertThat(OutcomeClassifier.classifyStatus(429, banning(401, 403))).isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(OutcomeClassifier.classifyStatus(503, banning(503))).isEqualTo(OutcomeKind.BANNED);
        assertThat(OutcomeClassifier.classifyStatus(503, banning())).isEqualTo(OutcomeKind.SERVER_ERROR);
        assertThat(OutcomeClassifier.classifyStatus(404, banning())).isEqualTo(OutcomeKind.CLIENT_ERROR);
        assertThat(OutcomeClassifier.classifyStatus(304, banning())).isEqualTo(OutcomeKind.SUCCESS);
    }

    @Test
    void banBodyPatternFoundInTheBodyPrefixMakesAnyStatusABan() {
        HealthPolicy policy = HealthPolicy.DEFAULT.withBanBodyPattern(BanBodyPattern.compile("(?i)are you a robot"));
        java.nio.ByteBuffer captcha = java.nio.ByteBuffer.wrap("<title>Are You A Robot?</title>".getBytes());

        assertThat(OutcomeClassifier.classify(Outcome.response(200, null, captcha), policy)).isEqualTo(OutcomeKind.BANNED);
        assertThat(OutcomeClassifier.classify(Outcome.response(404, null, captcha), policy)).isEqualTo(OutcomeKind.BANNED);
        assertThat(OutcomeClassifier.classify(Outcome.response(200, null, java.nio.ByteBuffer.wrap("ok".getBytes())),
                policy)).isEqualTo(OutcomeKind.SUCCESS);
        // a body not read, or no pattern, leaves the status to decide
        assertThat(OutcomeClassifier.classify(Outcome.status(200), policy)).isEqualTo(OutcomeKind.SUCCESS);
        assertThat(OutcomeClassifier.classify(Outcome.response(200, null, captcha), HealthPolicy.DEFAULT))
                .isEqualTo(OutcomeKind.SUCCESS);
    }

    @Test
    void onlyTheFirst64KibOfTheBodyAreScanned() {
        HealthPolicy policy = HealthPolicy.DEFAULT.withBanBodyPattern(BanBodyPattern.compile("captcha"));
        byte[] late = ("x".repeat(BanBodyPattern.SCAN_LIMIT) + "captcha").getBytes();
        byte[] early = ("x".repeat(BanBodyPattern.SCAN_LIMIT - 7) + "captcha").getBytes();

        assertThat(OutcomeClassifier.classify(Outcome.response(200, null, java.nio.ByteBuffer.wrap(late)), policy))
                .isEqualTo(OutcomeKind.SUCCESS);
        assertThat(OutcomeClassifier.classify(Outcome.response(200, null, java.nio.ByteBuffer.wrap(early)), policy))
                .isEqualTo(OutcomeKind.BANNED);
        assertThat(Outcome.response(200, null, java.nio.ByteBuffer.wrap(late)).toString()).doesNotContain("xxxx");
    }

    @Test
    void failuresWithoutAResponseAreTimeoutsOrConnectionErrorsUnlessConnectionErrorsAreBans() {
        assertThat(OutcomeClassifier.classify(Outcome.timeout(), HealthPolicy.DEFAULT)).isEqualTo(OutcomeKind.TIMEOUT);
        assertThat(OutcomeClassifier.classify(Outcome.connectionError(), banning()))
                .isEqualTo(OutcomeKind.CONNECTION_ERROR);
        assertThat(OutcomeClassifier.classify(Outcome.connectionError(), HealthPolicy.DEFAULT))
                .isEqualTo(OutcomeKind.BANNED);
        assertThat(OutcomeClassifier.classify(Outcome.unused(), HealthPolicy.DEFAULT)).isEqualTo(OutcomeKind.UNUSED);
    }

    @Test
    void a429AtALimitOrWithRetryAfterIsRateLimitedEvenWhenBanStatusesList429() {
        HealthPolicy policy = banning(401, 403, 429);
        assertThat(OutcomeClassifier.classify(Outcome.status(429), policy, LimitState.atLimitUntil(S)))
                .isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(OutcomeClassifier.classify(Outcome.status(429, Duration.ofSeconds(1)), policy))
                .isEqualTo(OutcomeKind.RATE_LIMITED);
        assertThat(OutcomeClassifier.classify(Outcome.status(429), policy, LimitState.UNKNOWN))
                .isEqualTo(OutcomeKind.BANNED);
        // a 401/403 stays a ban whatever the windows say
        assertThat(OutcomeClassifier.classify(Outcome.status(403), policy, LimitState.atLimitUntil(S)))
                .isEqualTo(OutcomeKind.BANNED);
    }

    @Test
    void a429IsRetriedKeptOutOfTheBreakerAndCountedAsAFailureByHealth() {
        // given 429 left out of ban_statuses
        HealthPolicy policy = banning(401, 403);
        OutcomeKind kind = OutcomeClassifier.classify(Outcome.status(429), policy);

        // when health sees it
        HealthRecord record = new HealthRecord(30);
        HealthVerdict verdict = HealthRules.apply(policy, record, Outcome.status(429), 10 * S, new SplittableRandom(1));

        // then every caller reads the same kind: retry elsewhere, not an upstream failure, a cooldown signal
        assertThat(kind.retryableOnAnotherSecret()).isTrue();
        assertThat(kind.upstreamFailure()).isFalse();
        assertThat(kind.wireName()).isEqualTo("rate_limited");
        assertThat(verdict.failure()).isTrue();
        assertThat(verdict.ban()).isFalse();
        assertThat(verdict.cooldownUntil()).isEqualTo(12 * S); // backoff_base, as no Retry-After came
        assertThat(record.successes()).isZero();
        assertThat(record.consecutiveFailures()).isEqualTo(1);
    }

    @Test
    void aRateLimitWithRetryAfterCoolsDownForTheRetryAfter() {
        HealthVerdict verdict = HealthRules.apply(banning(), new HealthRecord(30),
                Outcome.status(429, Duration.ofSeconds(40)), 0, new SplittableRandom(1));
        assertThat(verdict.cooldownUntil()).isEqualTo(40 * S);
        assertThat(verdict.reason()).contains("Retry-After");
    }

    @Test
    void wireNamesAreTheRequestLogValuesAndStable() {
        assertThat(java.util.Arrays.stream(OutcomeKind.values()).map(OutcomeKind::wireName)).containsExactly(
                "success", "client_error", "banned", "rate_limited", "failure", "timeout", "error", "unused",
                "refused");
    }
}
