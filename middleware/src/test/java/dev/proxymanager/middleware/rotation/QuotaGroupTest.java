package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.QuotaGroup;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;

/** Keys of one account share its quota: a use of any member counts against the group's limits too. */
class QuotaGroupTest {

    private final FakeClock clock = new FakeClock();

    /** k1 and k2 share an account allowed 4 a minute; k3 is on its own; each key may do 10 a minute. */
    private RotationEngine engine() {
        return RotationEngine.builder().withClock(clock).withRandomSeed(3)
                .withEndpoint(keys("api", 3).withLimit(LimitConfig.of(10, Duration.ofMinutes(1)))
                        .withGroup(new QuotaGroup("acct-1", List.of(LimitConfig.of(4, Duration.ofMinutes(1))),
                                List.of("k1", "k2")))
                        .build()).build();
    }

    @Test
    void theGroupMembersTogetherStayWithinTheGroupsLimitWhileOthersServeOn() {
        RotationEngine engine = engine();
        Map<String, Integer> uses = new HashMap<>();

        for (int i = 0; i < 20; i++) {
            AcquireResult r = engine.acquire("api");
            if (r instanceof AcquireResult.Granted g) {
                uses.merge(g.lease().secretId(), 1, Integer::sum);
                engine.release(g.lease(), Outcome.success());
            }
        }

        assertThat(uses.getOrDefault("k1", 0) + uses.getOrDefault("k2", 0)).isEqualTo(4);
        assertThat(uses.get("k3")).isEqualTo(10);
        SecretStats k1 = engine.stats("api").get(0);
        assertThat(k1.group().name()).isEqualTo("acct-1");
        assertThat(k1.group().windows()).containsExactly(
                new SecretStats.WindowUsage(LimitConfig.of(4, Duration.ofMinutes(1)), 4));
        assertThat(k1.windows()).singleElement().extracting(SecretStats.WindowUsage::uses)
                .isEqualTo(uses.getOrDefault("k1", 0));
        assertThat(engine.stats("api").get(2).group()).isNull();
    }

    @Test
    void aDenialNamesTheGroupsLimit() {
        RotationEngine engine = RotationEngine.builder().withClock(clock)
                .withEndpoint(keys("api", 2).withGroup(new QuotaGroup("acct-1",
                        List.of(LimitConfig.of(2, Duration.ofMinutes(1))), List.of("k1", "k2"))).build()).build();
        SecretLease first = granted(engine.acquire("api"));
        engine.release(first, Outcome.success());
        engine.release(granted(engine.acquire("api")), Outcome.success());

        AcquireResult.Denied d = denied(engine.acquire("api"));

        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(d.reason()).isEqualTo(
                "all keys of 'api' have reached rate limit (group acct-1: 2 requests/60 s); next free in 60 s");
        assertThat(d.limit()).isEqualTo(LimitConfig.of(2, Duration.ofMinutes(1)));
    }
}
