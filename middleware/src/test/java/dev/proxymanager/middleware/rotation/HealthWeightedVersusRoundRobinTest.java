package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.HealthPolicy;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark behind docs/benchmarks.md "health-weighted vs round-robin": 20 proxies, 5 of them bad and 15 good
 * (95 % success), 20 000 requests 50 ms apart on a fake clock, averaged over 3 seeds (the same for both methods).
 * Two scenarios: badly broken secrets (20 % success) under the default health policy, whose cooldowns already help
 * round-robin; and degraded secrets (60 % success) that never trip a cooldown, where only the bandit helps.
 */
class HealthWeightedVersusRoundRobinTest {

    private static final int SECRETS = 20;
    private static final int BAD = 5;
    private static final int REQUESTS = 20_000;

    static double successRate(RotationMethod method, HealthPolicy health, double badSuccess, long seed) {
        FakeClock clock = new FakeClock();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withRandomSeed(seed)
                .withEndpoint(Fixtures.proxies("scrape", SECRETS).withRotation(method).withHealth(health).build())
                .build();
        SplittableRandom upstream = new SplittableRandom(seed);
        int ok = 0;
        int served = 0;
        for (int i = 0; i < REQUESTS; i++) {
            clock.advance(Duration.ofMillis(50));
            if (!(engine.acquire("scrape") instanceof AcquireResult.Granted g)) {
                continue;
            }
            SecretLease l = g.lease();
            int n = Integer.parseInt(l.secretId().substring(1));
            double p = n <= BAD ? badSuccess : 0.95;
            boolean success = upstream.nextDouble() < p;
            engine.release(l, success ? Outcome.success() : Outcome.status(502));
            served++;
            ok += success ? 1 : 0;
        }
        return (double) ok / served;
    }

    private static double average(RotationMethod method, HealthPolicy health, double badSuccess) {
        double sum = 0;
        for (long seed = 1; seed <= 3; seed++) {
            sum += successRate(method, health, badSuccess, seed);
        }
        return sum / 3;
    }

    @Test
    void healthWeightedBeatsRoundRobinWhenSomeSecretsAreDegraded() {
        // given: failure thresholds no degraded secret reaches, so no cooldown hides them
        HealthPolicy lenient = new HealthPolicy(java.util.Set.of(), false, 100_000, Duration.ofMinutes(5),
                Duration.ofMinutes(10), 100_000, Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5), false);
        // when
        double rr = average(RotationMethod.ROUND_ROBIN, lenient, 0.60);
        double hw = average(RotationMethod.HEALTH_WEIGHTED, lenient, 0.60);
        double rrDefault = average(RotationMethod.ROUND_ROBIN, HealthPolicy.DEFAULT, 0.20);
        double hwDefault = average(RotationMethod.HEALTH_WEIGHTED, HealthPolicy.DEFAULT, 0.20);
        System.out.printf("degraded (5/20 at 60%%, no cooldowns): round-robin %.4f, health-weighted %.4f%n", rr, hw);
        System.out.printf("broken (5/20 at 20%%, default health policy): round-robin %.4f, health-weighted %.4f%n",
                rrDefault, hwDefault);
        // then: round-robin sits near 0.25 * 0.60 + 0.75 * 0.95 = 0.8625; the bandit near the good secrets' 0.95
        assertThat(rr).isBetween(0.84, 0.89);
        assertThat(hw).isGreaterThan(rr + 0.05);
        assertThat(hwDefault).isGreaterThan(0.90);
    }
}
