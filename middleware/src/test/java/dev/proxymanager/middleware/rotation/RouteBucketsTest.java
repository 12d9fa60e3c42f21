package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.QuotaGroup;
import dev.proxymanager.middleware.config.RouteCost;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.engine;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Per-route buckets and weighted calls with the in-memory store: a call counts in the limits whose {@code match} it
 * meets and in the unmatched ones, at its cost.
 */
class RouteBucketsTest {

    private static final RouteMatch SEARCH = new RouteMatch(List.of(), "/search/*");
    private static final LimitConfig SEARCH_LIMIT = LimitConfig.of(3, Duration.ofMinutes(1)).matching(SEARCH);
    private static final LimitConfig CORE_LIMIT = LimitConfig.of(50, Duration.ofHours(1));
    private static final CallRoute SEARCH_CALL = CallRoute.of("GET", "/search/code");
    private static final CallRoute REPO_CALL = CallRoute.of("GET", "/repos/a/b");

    private final FakeClock clock = new FakeClock();

    /** GitHub's shape: every call 50/h per key, search calls also 3/min per key. */
    private RotationEngine github(int keys) {
        return engine(clock, keys("api", keys).withLimit(CORE_LIMIT).withLimit(SEARCH_LIMIT).build());
    }

    private static int grantedCount(RotationEngine engine, CallRoute route, int tries) {
        int n = 0;
        for (int i = 0; i < tries; i++) {
            if (engine.acquire("api", null, route) instanceof AcquireResult.Granted g) {
                engine.release(g.lease(), Outcome.success());
                n++;
            }
        }
        return n;
    }

    @Test
    void aFullSearchBucketHoldsBackSearchCallsWhileOtherCallsOnTheSameKeyGoOn() {
        RotationEngine engine = github(1);

        assertThat(grantedCount(engine, SEARCH_CALL, 5)).isEqualTo(3);
        AcquireResult.Denied d = denied(engine.acquire("api", null, SEARCH_CALL));
        assertThat(grantedCount(engine, REPO_CALL, 10)).isEqualTo(10);

        assertThat(d.cause()).isEqualTo(UnavailableCause.AT_LIMIT);
        assertThat(d.reason()).isEqualTo("all keys of 'api' have reached rate limit (route * /search/*: 3 requests/60 s);"
                + " next free in 60 s");
        assertThat(d.limit()).isEqualTo(SEARCH_LIMIT);
        // the search calls counted in the key's every-call limit too: 3 + 10
        SecretStats k1 = engine.stats("api").getFirst();
        assertThat(k1.windows()).containsExactly(new SecretStats.WindowUsage(CORE_LIMIT, 13));
        assertThat(k1.routes()).containsExactly(new SecretStats.RouteUsage("* /search/*",
                List.of(new SecretStats.WindowUsage(SEARCH_LIMIT, 3))));
        assertThat(k1.cause()).isEqualTo(UnavailableCause.READY); // for calls in no bucket
    }

    @Test
    void searchCallsMoveToAKeyWhoseBucketHasRoomAndComeBackWhenTheWindowFrees() {
        RotationEngine engine = github(2);
        Map<String, Integer> perKey = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            if (engine.acquire("api", null, SEARCH_CALL) instanceof AcquireResult.Granted g) {
                perKey.merge(g.lease().secretId(), 1, Integer::sum);
                engine.release(g.lease(), Outcome.success());
            }
        }
        assertThat(perKey).containsEntry("k1", 3).containsEntry("k2", 3);

        clock.advance(Duration.ofSeconds(61));

        assertThat(grantedCount(engine, SEARCH_CALL, 8)).isEqualTo(6);
    }

    @Test
    void limitsWithTheSameMatchShareOneBucketWhateverTheirOrderOrCase() {
        RouteMatch a = new RouteMatch(List.of("post", "GET"), "/graphql");
        RouteMatch b = new RouteMatch(List.of("GET", "POST"), "/graphql");
        RotationEngine engine = engine(clock, keys("api", 1)
                .withLimit(LimitConfig.of(2, Duration.ofSeconds(1)).matching(a))
                .withLimit(LimitConfig.of(100, Duration.ofMinutes(1)).matching(b)).build());

        assertThat(grantedCount(engine, CallRoute.of("post", "/graphql"), 4)).isEqualTo(2);
        assertThat(grantedCount(engine, CallRoute.of("DELETE", "/graphql"), 4)).isEqualTo(4);

        assertThat(engine.stats("api").getFirst().routes()).singleElement()
                .satisfies(r -> assertThat(r.match()).isEqualTo("GET,POST /graphql"))
                .satisfies(r -> assertThat(r.windows()).extracting(SecretStats.WindowUsage::uses)
                        .containsExactly(2, 2));
    }

    @Test
    void aWeightedCallCountsItsCostInEveryLimitThatCountsIt() {
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(10, Duration.ofMinutes(1)))
                .withLimit(LimitConfig.of(6, Duration.ofMinutes(1)).matching(SEARCH))
                .withCosts(List.of(new RouteCost(SEARCH, 4))).build());

        SecretLease first = granted(engine.acquire("api", null, SEARCH_CALL));
        engine.release(first, Outcome.success());
        // 4 of 6 used in the bucket: a second search (4 more) does not fit, a plain call does
        denied(engine.acquire("api", null, SEARCH_CALL));
        engine.release(granted(engine.acquire("api", null, REPO_CALL)), Outcome.success());
        // a search call given cost 2 fits the bucket exactly (6 of 6) and takes the key to 7 of 10
        SecretLease two = granted(engine.acquire("api", null, new CallRoute("GET", "/search/x", 2)));
        engine.release(two, Outcome.success());

        assertThat(first.units()).isEqualTo(4);
        assertThat(two.units()).isEqualTo(2);
        SecretStats k1 = engine.stats("api").getFirst();
        assertThat(k1.windows()).extracting(SecretStats.WindowUsage::uses).containsExactly(7);
        assertThat(k1.routes().getFirst().windows()).extracting(SecretStats.WindowUsage::uses).containsExactly(6);
        assertThat(k1.totalUses()).isEqualTo(7);
        // 3 left in the key's window: a call of cost 4 waits, one of cost 3 fits
        denied(engine.acquire("api", null, new CallRoute("GET", "/repos", 4)));
        granted(engine.acquire("api", null, new CallRoute("GET", "/repos", 3)));
    }

    /** The in-memory store, counting acquires. */
    private static final class CountingStore implements dev.proxymanager.middleware.store.UsageStore {
        final dev.proxymanager.middleware.store.InMemoryUsageStore delegate =
                new dev.proxymanager.middleware.store.InMemoryUsageStore();
        int acquires;

        @Override
        public dev.proxymanager.middleware.store.StoreDecision acquire(String endpoint,
                dev.proxymanager.middleware.store.StoreCandidate[] candidates, int count,
                dev.proxymanager.middleware.store.LeaseTerms terms, String leaseId, long now, int units) {
            acquires++;
            return delegate.acquire(endpoint, candidates, count, terms, leaseId, now, units);
        }

        @Override
        public dev.proxymanager.middleware.store.Availability release(String endpoint,
                dev.proxymanager.middleware.store.StoreCandidate secret, dev.proxymanager.middleware.store.LeaseTerms terms,
                String leaseId, long now, long cooldownUntil, boolean remove) {
            return delegate.release(endpoint, secret, terms, leaseId, now, cooldownUntil, remove);
        }

        @Override
        public dev.proxymanager.middleware.store.Availability restamp(String endpoint,
                dev.proxymanager.middleware.store.StoreCandidate secret, String leaseId, long usedAt, long now,
                int units) {
            return delegate.restamp(endpoint, secret, leaseId, usedAt, now, units);
        }

        @Override
        public void restore(String endpoint, String secretId) {
            delegate.restore(endpoint, secretId);
        }

        @Override
        public void remove(String endpoint, String secretId) {
            delegate.remove(endpoint, secretId);
        }

        @Override
        public void recordPastUses(String endpoint, dev.proxymanager.middleware.store.StoreCandidate secret,
                                   long[] useTimes) {
            delegate.recordPastUses(endpoint, secret, useTimes);
        }

        @Override
        public dev.proxymanager.middleware.store.SecretUsage usage(String endpoint,
                dev.proxymanager.middleware.store.StoreCandidate secret,
                dev.proxymanager.middleware.store.LeaseTerms terms, long now) {
            return delegate.usage(endpoint, secret, terms, now);
        }

        @Override
        public void forget(String endpoint, String secretId) {
            delegate.forget(endpoint, secretId);
        }

        @Override
        public void recordQuota(String endpoint, String secretId,
                                dev.proxymanager.middleware.quota.UpstreamQuota quota, long now) {
            delegate.recordQuota(endpoint, secretId, quota, now);
        }
    }

    @Test
    void aWeightedGrantThatFillsTheKeyHoldsItBackForEveryCallWithoutAskingTheStoreAgain() {
        CountingStore store = new CountingStore();
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(store)
                .withEndpoint(keys("api", 1).withLimit(LimitConfig.of(4, Duration.ofMinutes(1))).build()).build();
        engine.release(granted(engine.acquire("api", null, new CallRoute("GET", "/", 4))), Outcome.success());

        AcquireResult.Denied d = denied(engine.acquire("api", null, REPO_CALL));

        assertThat(d.reason()).contains("(4 requests/60 s)");
        assertThat(store.acquires).isEqualTo(1);
    }

    @Test
    void aCostNoLimitCouldAdmitIsRefusedBeforeAnyStoreCall() {
        RotationEngine engine = github(2);

        assertThatThrownBy(() -> engine.acquire("api", null, new CallRoute("GET", "/search/x", 4)))
                .isInstanceOf(CostTooLargeException.class)
                .hasMessage("a call costing 4 uses can never be granted on endpoint 'api': route * /search/*:"
                        + " 3 requests/60 s counts it");
        // the same cost off the search route fits the 50/h
        granted(engine.acquire("api", null, new CallRoute("GET", "/repos", 4)));
        assertThat(engine.stats("api")).extracting(SecretStats::totalUses).containsExactly(4L, 0L);
    }

    @Test
    void aCostLargerThanASecretsOwnLimitPassesThatSecretOver() {
        RotationEngine engine = engine(clock, keys("api", 1)
                .withSecret(new dev.proxymanager.middleware.config.SecretConfig("small", "small-key-value-0001",
                        List.of(LimitConfig.of(2, Duration.ofMinutes(1))))).build());

        SecretLease l = granted(engine.acquire("api", "small", new CallRoute("GET", "/", 5)));

        assertThat(l.secretId()).isEqualTo("k1");
    }

    @Test
    void aCostHeaderDebitsTheDifferenceInTheBucketTheCallUsed() {
        RotationEngine engine = engine(clock, keys("api", 1).withLimit(LimitConfig.of(100, Duration.ofMinutes(1)))
                .withLimit(LimitConfig.of(20, Duration.ofMinutes(1)).matching(SEARCH))
                .withCosts(List.of(new RouteCost(SEARCH, 2))).build());

        SecretLease l = granted(engine.acquire("api", null, SEARCH_CALL));
        engine.release(l, Outcome.success().withQuota(QuotaReading.NONE.withCost(5)));

        SecretStats k1 = engine.stats("api").getFirst();
        assertThat(k1.windows()).extracting(SecretStats.WindowUsage::uses).containsExactly(5);
        assertThat(k1.routes().getFirst().windows()).extracting(SecretStats.WindowUsage::uses).containsExactly(5);
    }

    @Test
    void routeBucketsAndAGroupCountTogether() {
        RotationEngine engine = engine(clock, keys("api", 2).withLimit(SEARCH_LIMIT)
                .withGroup(new QuotaGroup("acct", List.of(LimitConfig.of(4, Duration.ofMinutes(1))),
                        List.of("k1", "k2"))).build());

        assertThat(grantedCount(engine, SEARCH_CALL, 10)).isEqualTo(4);
        AcquireResult.Denied d = denied(engine.acquire("api", null, REPO_CALL));

        assertThat(d.reason()).contains("group acct: 4 requests/60 s");
    }

    @Test
    void aPrefetchedUseIsNotHandedToACallThatCountsInARouteBucket() {
        ManualPrefetchScheduler scheduler = new ManualPrefetchScheduler(clock);
        RotationEngine engine = RotationEngine.builder().withClock(clock).withPrefetchScheduler(scheduler)
                .withEndpoint(keys("api", 1).withLimit(CORE_LIMIT).withLimit(SEARCH_LIMIT)
                        .withPrefetch(new dev.proxymanager.middleware.config.PrefetchConfig(1, Duration.ofSeconds(1)))
                        .build()).build();
        scheduler.runDue();
        assertThat(engine.prefetched("api")).isEqualTo(1);

        SecretLease search = granted(engine.acquire("api", null, SEARCH_CALL));

        assertThat(search.routes()).isEqualTo(1L);
        assertThat(engine.prefetched("api")).isEqualTo(1);
        assertThat(engine.stats("api").getFirst().routes().getFirst().windows().getFirst().uses()).isEqualTo(1);
    }
}
