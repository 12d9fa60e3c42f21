package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.engine;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static dev.proxymanager.middleware.rotation.Fixtures.proxies;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RotationEngineTest {

    private final FakeClock clock = new FakeClock();

    @Test
    void leastUsedSpreadsUsesEvenly() {
        // given
        RotationEngine engine = engine(clock, keys("api", 3).build());
        Map<String, Integer> uses = new HashMap<>();
        // when
        for (int i = 0; i < 30; i++) {
            SecretLease l = granted(engine.acquire("api"));
            uses.merge(l.secretId(), 1, Integer::sum);
            engine.release(l, Outcome.success());
        }
        // then
        assertThat(uses).containsOnly(Map.entry("k1", 10), Map.entry("k2", 10), Map.entry("k3", 10));
    }

    @Test
    void rotatesToNextKeyWhenLimitReached() {
        // given: seed A — five uses of key A, then a new request gets key B
        RotationEngine engine = engine(clock, keys("api", 2).withLimit(LimitConfig.of(5, Duration.ofMinutes(1)))
                .withRotation(RotationMethod.ROUND_ROBIN).build());
        // when
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(granted(engine.acquire("api")).secretId());
        }
        // then
        assertThat(ids).filteredOn("k1"::equals).hasSize(5);
        assertThat(ids).filteredOn("k2"::equals).hasSize(5);
        assertThat(engine.acquire("api")).isInstanceOf(AcquireResult.Denied.class);
    }

    @Test
    void roundRobinVisitsEachSecretInTurn() {
        RotationEngine engine = engine(clock, proxies("search", 3).withRotation(RotationMethod.ROUND_ROBIN).build());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(granted(engine.acquire("search")).secretId());
        }
        assertThat(ids).containsExactly("p1", "p2", "p3", "p1", "p2", "p3");
    }

    @Test
    void rateLimitedDeniesWithReasonAndRetryAfterWhenAllProxiesAreAtLimit() {
        // given: seed C — 30 requests per 60 s per proxy
        RotationEngine engine = engine(clock, proxies("search", 2).withRotation(RotationMethod.RATE_LIMITED)
                .withLimit(LimitConfig.of(30, Duration.ofSeconds(60))).build());
        for (int i = 0; i < 60; i++) {
            granted(engine.acquire("search"));
            clock.advance(Duration.ofMillis(100));
        }
        // when: 6 s after the first use
        clock.advance(Duration.ofSeconds(48)); // first use at t=0 frees at t=60 s; now t=54 s
        AcquireResult.Denied d = denied(engine.acquire("search"));
        // then
        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(d.reason()).isEqualTo("all proxies of 'search' have reached rate limit (30 requests/60 s); next free in 6 s");
        assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(6));
        // and when the oldest use ages out, one is free again
        clock.advance(d.retryAfter());
        assertThat(granted(engine.acquire("search")).secretId()).isEqualTo("p1");
    }

    @Test
    void slidingWindowAllowsNoBurstAtWindowEdge() {
        // given: 10 per minute, used 10 times in the last second of a minute
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(10, Duration.ofMinutes(1))).build());
        clock.advance(Duration.ofSeconds(59));
        for (int i = 0; i < 10; i++) {
            granted(engine.acquire("api"));
        }
        // when: one second later, in what a fixed window would call a new minute
        clock.advance(Duration.ofSeconds(1));
        // then
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofSeconds(59));
    }

    @Test
    void secretLimitsApplyOnTopOfEndpointLimits() {
        EndpointConfig e = keys("api", 0).withLimit(LimitConfig.of(100, Duration.ofHours(1)))
                .withSecret(new SecretConfig("small", "small-key-value-1", List.of(LimitConfig.of(2, Duration.ofMinutes(1)))))
                .build();
        RotationEngine engine = engine(clock, e);
        granted(engine.acquire("api"));
        granted(engine.acquire("api"));
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.reason()).contains("2 requests/60 s");
    }

    @Test
    void timeBasedKeepsOneSecretForTheIntervalThenMovesOn() {
        RotationEngine engine = engine(clock, keys("api", 3).withRotation(RotationMethod.TIME_BASED)
                .withRotationInterval(Duration.ofSeconds(30)).build());
        Set<String> first = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            first.add(granted(engine.acquire("api")).secretId());
            clock.advance(Duration.ofSeconds(5));
        }
        clock.advance(Duration.ofSeconds(6));
        String next = granted(engine.acquire("api")).secretId();
        assertThat(first).hasSize(1);
        assertThat(next).isNotEqualTo(first.iterator().next());
    }

    @Test
    void exclusiveLeaseIsNeverHandedToASecondCaller() {
        // given: seed B
        RotationEngine engine = engine(clock, proxies("scan", 2).withLease(LeaseMode.EXCLUSIVE).build());
        SecretLease a = granted(engine.acquire("scan"));
        SecretLease b = granted(engine.acquire("scan"));
        // when
        AcquireResult.Denied d = denied(engine.acquire("scan"));
        // then
        assertThat(a.secretId()).isNotEqualTo(b.secretId());
        assertThat(d.cause()).isEqualTo(UnavailableCause.LEASED);
        assertThat(d.retryAfter()).isEqualTo(EndpointConfig.DEFAULT_LEASE_TTL);
        // and after release it is available again
        engine.release(a, Outcome.success());
        assertThat(granted(engine.acquire("scan")).secretId()).isEqualTo(a.secretId());
    }

    @Test
    void sharedLeaseAdmitsUpToMaxHolders() {
        RotationEngine engine = engine(clock, proxies("scan", 1).withLease(LeaseMode.SHARED).withMaxHolders(3).build());
        for (int i = 0; i < 3; i++) {
            granted(engine.acquire("scan"));
        }
        assertThat(denied(engine.acquire("scan")).cause()).isEqualTo(UnavailableCause.LEASED);
    }

    @Test
    void leaseOfADeadCallerLapsesAfterItsTtl() {
        RotationEngine engine = engine(clock, proxies("scan", 1).withLease(LeaseMode.EXCLUSIVE)
                .withLeaseTtl(Duration.ofSeconds(10)).build());
        SecretLease lost = granted(engine.acquire("scan"));
        clock.advance(Duration.ofSeconds(9));
        assertThat(engine.acquire("scan")).isInstanceOf(AcquireResult.Denied.class);
        clock.advance(Duration.ofSeconds(1));
        SecretLease next = granted(engine.acquire("scan"));
        assertThat(next.leaseId()).isNotEqualTo(lost.leaseId());
        // a late release of the lapsed lease does not free the new holder's slot
        engine.release(lost, Outcome.success());
        assertThat(engine.acquire("scan")).isInstanceOf(AcquireResult.Denied.class);
    }

    @Test
    void banStatusCoolsSecretDownWithExponentialBackoff() {
        RotationEngine engine = engine(clock, keys("api", 1).build());
        List<SecretStateEvent> events = new ArrayList<>();
        engine.addListener(events::add);
        // when: a 429
        engine.release(granted(engine.acquire("api")), Outcome.status(429));
        // then: cooling down 2 s (+ up to 2 s jitter)
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(UnavailableCause.COOLING_DOWN);
        assertThat(d.retryAfter()).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.BAN);
            assertThat(e.secretId()).isEqualTo("k1");
            assertThat(e.until()).isAfter(clock.now());
        });
        // and a second ban doubles the base
        clock.advance(d.retryAfter());
        engine.release(granted(engine.acquire("api")), Outcome.status(429));
        assertThat(denied(engine.acquire("api")).retryAfter()).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(6));
    }

    @Test
    void upstreamRetryAfterIsHonoured() {
        RotationEngine engine = engine(clock, keys("api", 1).build());
        engine.release(granted(engine.acquire("api")), Outcome.status(503, Duration.ofSeconds(120)));
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofSeconds(120));
    }

    @Test
    void usageCapStartsCooldownAndFiresEvent() {
        // given: seed D — 500 uses → 15 min cooldown (scaled down: 5 uses per 15 min, 20 min cooldown)
        RotationEngine engine = engine(clock, keys("api", 1)
                .withLimit(new LimitConfig(5, Duration.ofMinutes(15), Duration.ofMinutes(20))).build());
        List<SecretStateEvent> events = new ArrayList<>();
        engine.addListener(events::add);
        for (int i = 0; i < 5; i++) {
            engine.release(granted(engine.acquire("api")), Outcome.success());
        }
        // then
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.retryAfter()).isEqualTo(Duration.ofMinutes(20));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(SecretStateEvent.Kind.COOLDOWN);
            assertThat(e.reason()).contains("usage cap");
        });
    }

    @Test
    void removeUnhealthyTakesSecretOutUntilRestored() {
        EndpointConfig e = keys("api", 2).withHealth(new dev.proxymanager.middleware.config.HealthPolicy(Set.of(401),
                true, 30, Duration.ofMinutes(5), Duration.ofMinutes(10), 3, Duration.ofMinutes(10), Duration.ofSeconds(2),
                Duration.ofMinutes(5), true)).build();
        RotationEngine engine = engine(clock, e);
        List<SecretStateEvent> events = new ArrayList<>();
        engine.addListener(events::add);
        // when: k1 gets a 401
        SecretLease l = granted(engine.acquire("api"));
        engine.release(l, Outcome.status(401));
        // then: only k2 is handed out, even much later
        clock.advance(Duration.ofHours(1));
        for (int i = 0; i < 5; i++) {
            assertThat(granted(engine.acquire("api")).secretId()).isNotEqualTo(l.secretId());
        }
        assertThat(events).extracting(SecretStateEvent::kind).contains(SecretStateEvent.Kind.REMOVED);
        assertThat(engine.stats("api")).filteredOn(s -> s.secretId().equals(l.secretId()))
                .singleElement().extracting(SecretStats::cause).isEqualTo(UnavailableCause.REMOVED);
        // and when restored it is used again
        engine.restoreSecret("api", l.secretId());
        Set<String> after = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            after.add(granted(engine.acquire("api")).secretId());
        }
        assertThat(after).contains(l.secretId());
        assertThat(events).extracting(SecretStateEvent::kind).contains(SecretStateEvent.Kind.RESTORED);
    }

    @Test
    void deniesWithAllRemovedWhenEverySecretIsRemoved() {
        RotationEngine engine = engine(clock, keys("api", 1).build());
        engine.removeSecret("api", "k1", "operator");
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(UnavailableCause.REMOVED);
        assertThat(d.reason()).isEqualTo("all keys of 'api' are removed as unhealthy; restore one to continue");
    }

    @Test
    void replacingSecretListKeepsCountsOfRemainingSecrets() {
        // given: k1 used 3 of its 3 per minute
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(3, Duration.ofMinutes(1))).build());
        for (int i = 0; i < 3; i++) {
            granted(engine.acquire("api"));
        }
        // when: k2 is added
        engine.updateEndpoint(keys("api", 2).withLimit(LimitConfig.of(3, Duration.ofMinutes(1))).build());
        // then: k1 is still at its limit, k2 serves
        for (int i = 0; i < 3; i++) {
            assertThat(granted(engine.acquire("api")).secretId()).isEqualTo("k2");
        }
        assertThat(engine.acquire("api")).isInstanceOf(AcquireResult.Denied.class);
        // and when k1 is removed from the list it is never handed out
        clock.advance(Duration.ofMinutes(2));
        engine.updateEndpoint(keys("api", 0).withLimit(LimitConfig.of(3, Duration.ofMinutes(1)))
                .withSecret("k2", "key-value-number-2").build());
        for (int i = 0; i < 3; i++) {
            assertThat(granted(engine.acquire("api")).secretId()).isEqualTo("k2");
        }
    }

    @Test
    void loweringALimitAtRunTimeAppliesToPastUses() {
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(10, Duration.ofMinutes(1))).build());
        for (int i = 0; i < 4; i++) {
            granted(engine.acquire("api"));
        }
        engine.updateEndpoint(keys("api", 1).withLimit(LimitConfig.of(4, Duration.ofMinutes(1))).build());
        assertThat(engine.acquire("api")).isInstanceOf(AcquireResult.Denied.class);
    }

    @Test
    void statsNameTheWindowClosestToBindingAndTheLimitThatBinds() {
        // given a key allowed 500 per 15 min and 30 per minute, with 26 uses
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(500, Duration.ofMinutes(15)))
                .withLimit(LimitConfig.of(30, Duration.ofMinutes(1))).build());
        for (int i = 0; i < 26; i++) {
            engine.release(granted(engine.acquire("api")), Outcome.success());
        }

        // then the per-minute window is the one closest to binding, while the key is ready
        SecretStats near = engine.stats("api").get(0);
        assertThat(near.cause()).isEqualTo(UnavailableCause.READY);
        assertThat(near.binding()).isEqualTo(new SecretStats.WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 26));

        // and once it is reached, the stats say so and the denial names the same limit
        for (int i = 0; i < 4; i++) {
            engine.release(granted(engine.acquire("api")), Outcome.success());
        }
        AcquireResult.Denied d = denied(engine.acquire("api"));
        SecretStats at = engine.stats("api").get(0);
        assertThat(at.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(at.binding().limit()).isEqualTo(LimitConfig.of(30, Duration.ofMinutes(1)));
        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(d.limit()).isEqualTo(at.binding().limit());
    }

    @Test
    void statsReportUsesStateAndHealthByIdOnly() {
        RotationEngine engine = engine(clock, keys("api", 2).withRotation(RotationMethod.ROUND_ROBIN)
                .withLimit(LimitConfig.of(2, Duration.ofMinutes(1))).build());
        SecretLease a = granted(engine.acquire("api"));
        engine.release(a, Outcome.success());
        SecretLease a2 = granted(engine.acquire("api"));
        engine.release(a2, Outcome.status(500));
        engine.release(granted(engine.acquire("api")), Outcome.success());
        List<SecretStats> stats = engine.stats("api");
        assertThat(stats).extracting(SecretStats::secretId).containsExactly("k1", "k2");
        SecretStats k1 = stats.get(0);
        assertThat(k1.windows()).singleElement().extracting(SecretStats.WindowUsage::uses).isEqualTo(2);
        assertThat(k1.totalUses()).isEqualTo(2);
        assertThat(k1.successes()).isEqualTo(2);
        assertThat(k1.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(k1.nextAvailable()).isEqualTo(clock.now().plus(Duration.ofMinutes(1)));
        SecretStats k2 = stats.get(1);
        assertThat(k2.failures()).isEqualTo(1);
        assertThat(k2.consecutiveFailures()).isEqualTo(1);
        assertThat(k2.cause()).isEqualTo(UnavailableCause.READY);
        assertThat(stats.toString()).doesNotContain("key-value-number");
    }

    @Test
    void restoredUsageFromRequestLogCountsInOpenWindows() {
        RotationEngine engine = engine(clock, keys("api", 2).withLimit(LimitConfig.of(3, Duration.ofMinutes(1))).build());
        Instant now = clock.now();
        engine.restoreUsage("api", "k1", List.of(now.minusSeconds(50), now.minusSeconds(40), now.minusSeconds(30),
                now.minusSeconds(90)));
        // k1 is full for 10 more seconds; k2 takes all three
        for (int i = 0; i < 3; i++) {
            assertThat(granted(engine.acquire("api")).secretId()).isEqualTo("k2");
        }
        assertThat(denied(engine.acquire("api")).retryAfter()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void leaseExposesValueButToStringMasksIt() {
        RotationEngine engine = engine(clock, keys("api", 1).build());
        SecretLease l = granted(engine.acquire("api"));
        assertThat(l.value()).isEqualTo("key-value-number-1");
        assertThat(l.maskedValue()).isEqualTo("key-…er-1");
        assertThat(l.toString()).doesNotContain("key-value-number-1").contains("k1");
    }

    @Test
    void unknownEndpointIsAnErrorListingKnownOnes() {
        RotationEngine engine = engine(clock, keys("api", 1).build());
        assertThatThrownBy(() -> engine.acquire("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no endpoint named 'nope'; known endpoints: [api]");
    }

    @Test
    void healthWeightedPrefersSecretsThatSucceed() {
        RotationEngine engine = engine(clock, keys("api", 2).withRotation(RotationMethod.HEALTH_WEIGHTED)
                .withHealth(new dev.proxymanager.middleware.config.HealthPolicy(Set.of(), false, 1000,
                        Duration.ofMinutes(5), Duration.ofMinutes(10), 1000, Duration.ofMinutes(10), Duration.ofSeconds(2),
                        Duration.ofMinutes(5), false)).build());
        Map<String, Integer> uses = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            SecretLease l = granted(engine.acquire("api"));
            uses.merge(l.secretId(), 1, Integer::sum);
            engine.release(l, l.secretId().equals("k1") ? Outcome.status(500) : Outcome.success());
        }
        assertThat(uses.get("k2")).isGreaterThan(350);
    }

    @Test
    void healthWeightedMovesTrafficOffSecretsThatStartFailing() {
        // given: 50 keys, all fine at first, so a few of them win the draws and carry the traffic
        RotationEngine engine = engine(clock, keys("api", 50).withRotation(RotationMethod.HEALTH_WEIGHTED)
                .withHealth(new dev.proxymanager.middleware.config.HealthPolicy(Set.of(), false, 100_000,
                        Duration.ofMinutes(5), Duration.ofMinutes(10), 100_000, Duration.ofMinutes(10),
                        Duration.ofSeconds(2), Duration.ofMinutes(5), false)).build());
        Map<String, Integer> early = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            SecretLease l = granted(engine.acquire("api"));
            early.merge(l.secretId(), 1, Integer::sum);
            engine.release(l, Outcome.success());
        }
        Set<String> busiest = new HashSet<>();
        early.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(8)
                .forEach(e -> busiest.add(e.getKey()));
        // when: exactly those start failing every request (no cooldown rule catches it)
        int lateOnBusiest = 0;
        for (int i = 0; i < 6000; i++) {
            SecretLease l = granted(engine.acquire("api"));
            boolean failing = busiest.contains(l.secretId());
            engine.release(l, failing ? Outcome.status(500) : Outcome.success());
            if (i >= 5000 && failing) {
                lateOnBusiest++;
            }
        }
        // then: the bandit has moved nearly all traffic to the others
        assertThat(lateOnBusiest).isLessThan(100);
    }

    @Test
    void healthWeightedKeepsGoodSecretsInUseWhenLeasesTakeThemAway() {
        // given: 40 keys leased exclusively, 10 good and 30 that fail 70 % of the time (no cooldown rule catches it);
        // each caller round holds 6 leases at once, so winners leave the ready set while others are picked
        RotationEngine engine = engine(clock, keys("api", 40).withRotation(RotationMethod.HEALTH_WEIGHTED)
                .withLease(LeaseMode.EXCLUSIVE).withHealth(new dev.proxymanager.middleware.config.HealthPolicy(Set.of(),
                        false, 100_000, Duration.ofMinutes(5), Duration.ofMinutes(10), 100_000, Duration.ofMinutes(10),
                        Duration.ofSeconds(2), Duration.ofMinutes(5), false)).build());
        java.util.SplittableRandom upstream = new java.util.SplittableRandom(3);
        int late = 0;
        int lateGood = 0;
        // when
        for (int round = 0; round < 3000; round++) {
            List<SecretLease> held = new ArrayList<>();
            for (int j = 0; j < 6; j++) {
                held.add(granted(engine.acquire("api")));
            }
            for (SecretLease l : held) {
                boolean good = Integer.parseInt(l.secretId().substring(1)) <= 10;
                if (round >= 2000) {
                    late++;
                    lateGood += good ? 1 : 0;
                }
                engine.release(l, good || upstream.nextDouble() < 0.3 ? Outcome.success() : Outcome.status(500));
            }
        }
        // then: picking at random would give the good keys a quarter of the traffic
        assertThat((double) lateGood / late).isGreaterThan(0.8);
    }
}
