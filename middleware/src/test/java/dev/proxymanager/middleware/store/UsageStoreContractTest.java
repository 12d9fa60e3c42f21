package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.quota.UpstreamQuota;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The behaviour every {@link UsageStore} must have. A backend's test extends this class and supplies a fresh, empty
 * store per test (the Redis one included). Times are arbitrary nanosecond values: stores run here on the callers'
 * time (the Redis store's own clock has {@code RedisServerTimeTest}).
 */
public abstract class UsageStoreContractTest {

    protected static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    protected static final long T0 = 1_767_225_600L * SECOND; // 2026-01-01T00:00:00Z

    protected UsageStore store;
    private String endpoint;

    /** A new, empty store; each test gets its own. */
    protected abstract UsageStore createStore();

    @BeforeEach
    void openStore() {
        store = createStore();
        endpoint = "contract-" + System.identityHashCode(this);
    }

    @AfterEach
    void closeStore() throws Exception {
        store.close();
    }

    private static StoreCandidate candidate(String id, UsageLimit... limits) {
        return new StoreCandidate(id, List.of(limits));
    }

    private StoreDecision acquire(LeaseTerms terms, long now, String leaseId, StoreCandidate... cs) {
        return store.acquire(endpoint, cs, cs.length, terms, leaseId, now);
    }

    @Test
    void grantsFirstCandidateThatPassesAndRecordsTheUse() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 60 * SECOND, 0));
        StoreCandidate b = candidate("b", new UsageLimit(1, 60 * SECOND, 0));
        StoreDecision first = acquire(LeaseTerms.NONE, T0, "l1", a, b);
        assertThat(first.granted()).isZero();
        assertThat(first.examined()).singleElement().isEqualTo(Availability.atLimit(T0 + 60 * SECOND, 0));

        StoreDecision second = acquire(LeaseTerms.NONE, T0 + SECOND, "l2", a, b);
        assertThat(second.granted()).isEqualTo(1);
        assertThat(second.examined().get(0)).isEqualTo(Availability.atLimit(T0 + 60 * SECOND, 0));
    }

    @Test
    void deniesWithEarliestFreeTimeOfEachCandidateAndRecordsNothing() {
        StoreCandidate a = candidate("a", new UsageLimit(2, 10 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        acquire(LeaseTerms.NONE, T0 + SECOND, "l2", a);
        StoreDecision denied = acquire(LeaseTerms.NONE, T0 + 5 * SECOND, "l3", a);
        assertThat(denied.isGranted()).isFalse();
        assertThat(denied.examined()).containsExactly(Availability.atLimit(T0 + 10 * SECOND, 0));
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 5 * SECOND).totalUses()).isEqualTo(2);
    }

    @Test
    void slidingWindowAdmitsExactlyWhenOldestUseAgesOut() {
        StoreCandidate a = candidate("a", new UsageLimit(3, 10 * SECOND, 0));
        for (int i = 0; i < 3; i++) {
            assertThat(acquire(LeaseTerms.NONE, T0 + i * SECOND, "l" + i, a).isGranted()).isTrue();
        }
        assertThat(acquire(LeaseTerms.NONE, T0 + 10 * SECOND - 1, "x", a).isGranted()).isFalse();
        assertThat(acquire(LeaseTerms.NONE, T0 + 10 * SECOND, "y", a).isGranted()).isTrue();
        assertThat(acquire(LeaseTerms.NONE, T0 + 10 * SECOND, "z", a).isGranted()).isFalse();
    }

    @Test
    void guardBandDelaysTheSlotAUseFreesByTheMargin() {
        long margin = 50 * SECOND / 1000;
        StoreCandidate a = candidate("a", new UsageLimit(1, 2 * SECOND, 0, margin));
        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).examined())
                .containsExactly(Availability.atLimit(T0 + 2 * SECOND + margin, 0));
        StoreDecision atWindowEdge = acquire(LeaseTerms.NONE, T0 + 2 * SECOND, "l2", a);
        assertThat(atWindowEdge.isGranted()).isFalse();
        assertThat(atWindowEdge.examined()).containsExactly(Availability.atLimit(T0 + 2 * SECOND + margin, 0));
        assertThat(acquire(LeaseTerms.NONE, T0 + 2 * SECOND + margin, "l3", a).isGranted()).isTrue();
    }

    @Test
    void restampMovesAUseToNowWhenEveryLimitAdmitsIt() {
        StoreCandidate a = candidate("a", new UsageLimit(2, 10 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        assertThat(store.restamp(endpoint, a, "l1", T0, T0 + 3 * SECOND))
                .isEqualTo(new Availability(T0 + 3 * SECOND, UnavailableCause.READY));
        assertThat(acquire(LeaseTerms.NONE, T0 + 4 * SECOND, "l2", a).isGranted()).isTrue();
        // the first use now counts from T0 + 3 s, not T0
        StoreDecision d = acquire(LeaseTerms.NONE, T0 + 10 * SECOND, "l3", a);
        assertThat(d.isGranted()).isFalse();
        assertThat(d.examined()).containsExactly(Availability.atLimit(T0 + 13 * SECOND, 0));
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 10 * SECOND).totalUses()).isEqualTo(2);
    }

    @Test
    void restampLeavesTheUseWhereItWasWhenAGrantTookTheSlotMeanwhile() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 10 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        assertThat(acquire(LeaseTerms.NONE, T0 + 10 * SECOND, "l2", a).isGranted()).isTrue();
        assertThat(store.restamp(endpoint, a, "l1", T0, T0 + 11 * SECOND))
                .isEqualTo(Availability.atLimit(T0 + 20 * SECOND, 0));
        assertThat(acquire(LeaseTerms.NONE, T0 + 20 * SECOND, "l3", a).isGranted()).isTrue();
    }

    @Test
    void restampIgnoresCooldownsTheGrantStarted() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 10 * SECOND, 60 * SECOND));
        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).capCooldownUntil()).isEqualTo(T0 + 60 * SECOND);
        assertThat(store.restamp(endpoint, a, "l1", T0, T0 + SECOND))
                .isEqualTo(new Availability(T0 + SECOND, UnavailableCause.READY));
    }

    @Test
    void everyLimitOfACandidateMustAdmit() {
        StoreCandidate a = candidate("a", new UsageLimit(5, 60 * SECOND, 0), new UsageLimit(1, SECOND, 0));
        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).isGranted()).isTrue();
        StoreDecision d = acquire(LeaseTerms.NONE, T0, "l2", a);
        assertThat(d.isGranted()).isFalse();
        assertThat(d.examined()).containsExactly(Availability.atLimit(T0 + SECOND, 1));
    }

    @Test
    void exclusiveLeaseBlocksUntilReleasedOrExpired() {
        LeaseTerms exclusive = new LeaseTerms(1, 30 * SECOND);
        StoreCandidate a = candidate("a");
        StoreDecision d = acquire(exclusive, T0, "l1", a);
        assertThat(d.examined()).containsExactly(new Availability(T0 + 30 * SECOND, UnavailableCause.LEASED));
        assertThat(acquire(exclusive, T0 + SECOND, "l2", a).isGranted()).isFalse();
        assertThat(store.release(endpoint, a, exclusive, "l1", T0 + 2 * SECOND, 0, false))
                .isEqualTo(new Availability(T0 + 2 * SECOND, UnavailableCause.READY));
        assertThat(acquire(exclusive, T0 + 2 * SECOND, "l3", a).isGranted()).isTrue();
        // l3 is never released: it lapses after its TTL
        assertThat(acquire(exclusive, T0 + 32 * SECOND - 1, "l4", a).isGranted()).isFalse();
        assertThat(acquire(exclusive, T0 + 32 * SECOND, "l5", a).isGranted()).isTrue();
    }

    @Test
    void sharedLeaseAdmitsMaxHolders() {
        LeaseTerms shared = new LeaseTerms(2, 30 * SECOND);
        StoreCandidate a = candidate("a");
        assertThat(acquire(shared, T0, "l1", a).isGranted()).isTrue();
        assertThat(acquire(shared, T0, "l2", a).isGranted()).isTrue();
        assertThat(acquire(shared, T0, "l3", a).isGranted()).isFalse();
        assertThat(store.usage(endpoint, a, shared, T0).holders()).isEqualTo(2);
        store.release(endpoint, a, shared, "l1", T0, 0, false);
        assertThat(acquire(shared, T0, "l4", a).isGranted()).isTrue();
    }

    @Test
    void releasingAnUnknownLeaseIsHarmless() {
        LeaseTerms exclusive = new LeaseTerms(1, 30 * SECOND);
        StoreCandidate a = candidate("a");
        acquire(exclusive, T0, "l1", a);
        store.release(endpoint, a, exclusive, "other", T0, 0, false);
        assertThat(acquire(exclusive, T0, "l2", a).isGranted()).isFalse();
    }

    @Test
    void releaseCooldownBlocksUntilItEnds() {
        StoreCandidate a = candidate("a");
        acquire(LeaseTerms.NONE, T0, "l1", a);
        Availability after = store.release(endpoint, a, LeaseTerms.NONE, null, T0, T0 + 5 * SECOND, false);
        assertThat(after).isEqualTo(new Availability(T0 + 5 * SECOND, UnavailableCause.COOLING_DOWN));
        assertThat(acquire(LeaseTerms.NONE, T0 + 5 * SECOND - 1, "l2", a).isGranted()).isFalse();
        assertThat(acquire(LeaseTerms.NONE, T0 + 5 * SECOND, "l3", a).isGranted()).isTrue();
    }

    @Test
    void shorterCooldownDoesNotShortenALongerOne() {
        StoreCandidate a = candidate("a");
        store.release(endpoint, a, LeaseTerms.NONE, null, T0, T0 + 50 * SECOND, false);
        store.release(endpoint, a, LeaseTerms.NONE, null, T0, T0 + 5 * SECOND, false);
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).cooldownUntil()).isEqualTo(T0 + 50 * SECOND);
    }

    @Test
    void usageCapStartsCooldownOnTheUseThatReachesIt() {
        StoreCandidate a = candidate("a", new UsageLimit(2, 60 * SECOND, 600 * SECOND));
        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).capCooldownUntil()).isZero();
        StoreDecision d = acquire(LeaseTerms.NONE, T0 + SECOND, "l2", a);
        assertThat(d.capCooldownUntil()).isEqualTo(T0 + 601 * SECOND);
        assertThat(d.examined()).containsExactly(new Availability(T0 + 601 * SECOND, UnavailableCause.COOLING_DOWN));
    }

    @Test
    void removedSecretIsNeverGrantedUntilRestored() {
        StoreCandidate a = candidate("a");
        store.remove(endpoint, "a");
        StoreDecision d = acquire(LeaseTerms.NONE, T0, "l1", a);
        assertThat(d.examined()).containsExactly(new Availability(Long.MAX_VALUE, UnavailableCause.REMOVED));
        store.restore(endpoint, "a");
        assertThat(acquire(LeaseTerms.NONE, T0, "l2", a).isGranted()).isTrue();
    }

    @Test
    void removalThroughReleaseOutcome() {
        StoreCandidate a = candidate("a");
        assertThat(store.release(endpoint, a, LeaseTerms.NONE, null, T0, 0, true).cause()).isEqualTo(UnavailableCause.REMOVED);
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).removed()).isTrue();
    }

    @Test
    void pastUsesCountInOpenWindows() {
        StoreCandidate a = candidate("a", new UsageLimit(3, 60 * SECOND, 0));
        store.recordPastUses(endpoint, a, new long[] {T0 - 70 * SECOND, T0 - 30 * SECOND, T0 - 20 * SECOND});
        SecretUsage u = store.usage(endpoint, a, LeaseTerms.NONE, T0);
        assertThat(u.usesPerLimit()).containsExactly(2);
        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).isGranted()).isTrue();
        assertThat(acquire(LeaseTerms.NONE, T0, "l2", a).examined()).containsExactly(Availability.atLimit(T0 + 30 * SECOND, 0));
    }

    @Test
    void changedLimitsKeepRecentUses() {
        StoreCandidate wide = candidate("a", new UsageLimit(10, 60 * SECOND, 0));
        for (int i = 0; i < 5; i++) {
            acquire(LeaseTerms.NONE, T0 + i, "l" + i, wide);
        }
        StoreCandidate narrow = candidate("a", new UsageLimit(5, 60 * SECOND, 0));
        assertThat(acquire(LeaseTerms.NONE, T0 + 10, "x", narrow).isGranted()).isFalse();
    }

    @Test
    void forgetDropsASecret() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 60 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        store.forget(endpoint, "a");
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).totalUses()).isZero();
        assertThat(acquire(LeaseTerms.NONE, T0, "l2", a).isGranted()).isTrue();
    }

    @Test
    void endpointsAreIndependent() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 60 * SECOND, 0));
        store.acquire("one-" + endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0);
        assertThat(store.acquire("two-" + endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l2", T0).isGranted())
                .isTrue();
    }

    @Test
    void upstreamReportingNothingLeftBlocksUntilItsResetWhateverOurLimitsSay() {
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 5000, 0, T0 + 30 * SECOND, T0), T0);

        StoreDecision refused = acquire(LeaseTerms.NONE, T0 + SECOND, "l1", a);
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.examined()).containsExactly(
                new Availability(T0 + 30 * SECOND, UnavailableCause.COOLING_DOWN));
        assertThat(acquire(LeaseTerms.NONE, T0 + 30 * SECOND, "l2", a).isGranted()).isTrue();
    }

    @Test
    void eachGrantTakesOneOffTheReportedRemaining() {
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 10, 2, T0 + 30 * SECOND, T0), T0);

        assertThat(acquire(LeaseTerms.NONE, T0 + 1, "l1", a).isGranted()).isTrue();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 2).upstream())
                .isEqualTo(new UpstreamQuota("core", 10, 1, T0 + 30 * SECOND, T0));
        assertThat(acquire(LeaseTerms.NONE, T0 + 3, "l2", a).isGranted()).isTrue();
        assertThat(acquire(LeaseTerms.NONE, T0 + 4, "l3", a).isGranted()).isFalse();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 5).cooldownUntil()).isEqualTo(T0 + 30 * SECOND);
    }

    @Test
    void aReportOfTheSameWindowNeverRaisesTheRemaining() {
        // responses come back out of order: a report read later may have been counted earlier upstream
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 10, 0, T0 + 30 * SECOND, T0 + 2), T0 + 2);
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", -1, 9, T0 + 30 * SECOND + SECOND / 2, T0 + 3),
                T0 + 3);

        assertThat(acquire(LeaseTerms.NONE, T0 + 4, "l1", a).isGranted()).isFalse();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 5).upstream())
                .isEqualTo(new UpstreamQuota("core", 10, 0, T0 + 30 * SECOND + SECOND / 2, T0 + 3));
    }

    @Test
    void aReportOfAnotherWindowReplacesTheHeldOneOnlyWhenLearnedLater() {
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 0, T0 + 30 * SECOND, T0 + 2), T0 + 2);
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 9, T0 + 90 * SECOND, T0 + 1), T0 + 3);
        assertThat(acquire(LeaseTerms.NONE, T0 + 4, "l1", a).isGranted()).isFalse();

        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 3, T0 + 90 * SECOND, T0 + 5), T0 + 5);
        assertThat(acquire(LeaseTerms.NONE, T0 + 6, "l2", a).isGranted()).isTrue();
    }

    @Test
    void theUpstreamReportExpiresAtItsReset() {
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 4, T0 + 30 * SECOND, T0), T0);

        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 30 * SECOND - 1).upstream()).isNotNull();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 30 * SECOND).upstream()).isNull();
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 0, T0 + SECOND, T0), T0 + 2 * SECOND);
        assertThat(acquire(LeaseTerms.NONE, T0 + 2 * SECOND, "l1", a).isGranted()).isTrue(); // a past reset: nothing
    }

    private static StoreCandidate member(String id, StoreCandidate group, UsageLimit... limits) {
        return new StoreCandidate(id, List.of(limits), group);
    }

    @Test
    void aUseOfAnyGroupMemberCountsAgainstTheGroupsLimits() {
        // given two secrets, each allowed 5 a minute, sharing an account allowed 3 a minute
        StoreCandidate account = candidate("~group:acct", new UsageLimit(3, 60 * SECOND, 0));
        StoreCandidate a = member("a", account, new UsageLimit(5, 60 * SECOND, 0));
        StoreCandidate b = member("b", account, new UsageLimit(5, 60 * SECOND, 0));

        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).isGranted()).isTrue();
        assertThat(acquire(LeaseTerms.NONE, T0 + SECOND, "l2", b).isGranted()).isTrue();
        StoreDecision third = acquire(LeaseTerms.NONE, T0 + 2 * SECOND, "l3", a);
        assertThat(third.isGranted()).isTrue();
        // the grant filled the group's window: index 1 = the group's first limit, after a's one
        assertThat(third.examined()).containsExactly(Availability.atLimit(T0 + 60 * SECOND, 1));

        // then neither member is granted until the group's oldest use ages out, though each is under its own limit
        StoreDecision refused = acquire(LeaseTerms.NONE, T0 + 3 * SECOND, "l4", b, a);
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.examined()).containsExactly(Availability.atLimit(T0 + 60 * SECOND, 1),
                Availability.atLimit(T0 + 60 * SECOND, 1));
        assertThat(store.usage(endpoint, b, LeaseTerms.NONE, T0 + 3 * SECOND).usesPerLimit()).containsExactly(1, 3);
        assertThat(acquire(LeaseTerms.NONE, T0 + 60 * SECOND, "l5", b).isGranted()).isTrue();
    }

    @Test
    void aMembersOwnLimitStillBindsInsideItsGroup() {
        StoreCandidate account = candidate("~group:acct", new UsageLimit(100, 60 * SECOND, 0));
        StoreCandidate a = member("a", account, new UsageLimit(1, 60 * SECOND, 0));
        StoreCandidate b = member("b", account, new UsageLimit(1, 60 * SECOND, 0));

        assertThat(acquire(LeaseTerms.NONE, T0, "l1", a).isGranted()).isTrue();
        StoreDecision next = acquire(LeaseTerms.NONE, T0 + 1, "l2", a, b);
        assertThat(next.granted()).isEqualTo(1);
        assertThat(next.examined().get(0)).isEqualTo(Availability.atLimit(T0 + 60 * SECOND, 0));
        assertThat(store.release(endpoint, a, LeaseTerms.NONE, null, T0 + 2, 0, false))
                .isEqualTo(Availability.atLimit(T0 + 60 * SECOND, 0));
    }

    /** Secret {@code id} with its own limits and the route buckets a call counts against. */
    private static StoreCandidate routed(String id, List<StoreCandidate> routes, UsageLimit... limits) {
        return new StoreCandidate(id, List.of(limits), routes, null);
    }

    @Test
    void aCallCountsAgainstTheRouteBucketItMatchesAndTheUnmatchedLimits() {
        // given one key: 5 a minute in all, and a search bucket of 2 a minute
        StoreCandidate search = candidate("a~route:search", new UsageLimit(2, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5, 60 * SECOND, 0));
        StoreCandidate otherCall = routed("a", List.of(), new UsageLimit(5, 60 * SECOND, 0));

        assertThat(acquire(LeaseTerms.NONE, T0, "l1", searchCall).isGranted()).isTrue();
        StoreDecision second = acquire(LeaseTerms.NONE, T0 + SECOND, "l2", searchCall);
        assertThat(second.isGranted()).isTrue();
        // the grant filled the search bucket: index 1 = the route's first limit, after the key's own
        assertThat(second.examined()).containsExactly(Availability.atLimit(T0 + 60 * SECOND, 1));
        assertThat(acquire(LeaseTerms.NONE, T0 + 2 * SECOND, "l3", searchCall).examined())
                .containsExactly(Availability.atLimit(T0 + 60 * SECOND, 1));
        // other calls on the same key still go, and count against its own limit with the search calls
        for (int i = 0; i < 3; i++) {
            assertThat(acquire(LeaseTerms.NONE, T0 + 3 * SECOND + i, "o" + i, otherCall).isGranted()).isTrue();
        }
        assertThat(acquire(LeaseTerms.NONE, T0 + 4 * SECOND, "o4", otherCall).examined())
                .containsExactly(Availability.atLimit(T0 + 60 * SECOND, 0));
        assertThat(store.usage(endpoint, searchCall, LeaseTerms.NONE, T0 + 4 * SECOND).usesPerLimit())
                .containsExactly(5, 2);
        assertThat(store.usage(endpoint, otherCall, LeaseTerms.NONE, T0 + 4 * SECOND).totalUses()).isEqualTo(5);
    }

    @Test
    void routeBucketsAreOrderedBeforeTheGroupInAnAvailability() {
        StoreCandidate account = candidate("~group:acct", new UsageLimit(1, 60 * SECOND, 0));
        StoreCandidate search = candidate("a~route:search", new UsageLimit(3, 60 * SECOND, 0));
        StoreCandidate a = new StoreCandidate("a", List.of(new UsageLimit(10, 60 * SECOND, 0)), List.of(search),
                account);
        StoreDecision d = acquire(LeaseTerms.NONE, T0, "l1", a);
        assertThat(d.isGranted()).isTrue();
        assertThat(d.examined()).containsExactly(Availability.atLimit(T0 + 60 * SECOND, 2));
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).usesPerLimit()).containsExactly(1, 1, 1);
    }

    @Test
    void aWeightedCallIsGrantedOnlyWhenEveryLimitAdmitsAllItsUnits() {
        StoreCandidate a = candidate("a", new UsageLimit(10, 60 * SECOND, 0));
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0, 4).isGranted())
                .isTrue();
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l2", T0 + SECOND, 4)
                .isGranted()).isTrue();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + SECOND).usesPerLimit()).containsExactly(8);
        // 8 of 10 used: 3 units do not fit until the first call's 4 age out; 2 do
        StoreDecision refused = store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l3",
                T0 + 2 * SECOND, 3);
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.examined()).containsExactly(Availability.atLimit(T0 + 60 * SECOND, 0));
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l4", T0 + 2 * SECOND, 2)
                .isGranted()).isTrue();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 2 * SECOND).totalUses()).isEqualTo(10);
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l5", T0 + 60 * SECOND, 4)
                .isGranted()).isTrue();
    }

    @Test
    void aWeightedCallCountsItsUnitsInItsRouteBucketAndGroupToo() {
        StoreCandidate account = candidate("~group:acct", new UsageLimit(6, 60 * SECOND, 0));
        StoreCandidate points = candidate("a~route:graphql", new UsageLimit(5, 60 * SECOND, 0));
        StoreCandidate a = new StoreCandidate("a", List.of(new UsageLimit(100, 60 * SECOND, 0)), List.of(points),
                account);
        StoreCandidate b = member("b", account, new UsageLimit(100, 60 * SECOND, 0));
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0, 5).isGranted())
                .isTrue();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).usesPerLimit()).containsExactly(5, 5, 5);
        // b shares only the group: one unit left there
        assertThat(store.acquire(endpoint, new StoreCandidate[] {b}, 1, LeaseTerms.NONE, "l2", T0, 2).examined())
                .containsExactly(Availability.atLimit(T0 + 60 * SECOND, 1));
        assertThat(store.acquire(endpoint, new StoreCandidate[] {b}, 1, LeaseTerms.NONE, "l3", T0, 1).isGranted())
                .isTrue();
    }

    @Test
    void aWeightedGrantTakesItsUnitsOffTheReportedRemaining() {
        StoreCandidate a = candidate("a");
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 100, 10, T0 + 60 * SECOND, T0), T0);
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0, 4).isGranted())
                .isTrue();
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).upstream().remaining()).isEqualTo(6);
    }

    @Test
    void restampMovesAllUnitsOfAWeightedGrantTogether() {
        StoreCandidate a = candidate("a", new UsageLimit(4, 10 * SECOND, 0));
        store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0, 3);
        assertThat(store.restamp(endpoint, a, "l1", T0, T0 + 3 * SECOND, 3))
                .isEqualTo(new Availability(T0 + 3 * SECOND, UnavailableCause.READY));
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 3 * SECOND).usesPerLimit()).containsExactly(3);
        // all three now free their slots at T0 + 13 s, none at T0 + 10 s
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l2", T0 + 10 * SECOND, 2)
                .examined()).containsExactly(Availability.atLimit(T0 + 13 * SECOND, 0));
    }

    @Test
    void pastUsesCountInTheRouteBucketsAndGroupOfTheCall() {
        StoreCandidate account = candidate("~group:acct", new UsageLimit(10, 60 * SECOND, 0));
        StoreCandidate points = candidate("a~route:graphql", new UsageLimit(10, 60 * SECOND, 0));
        StoreCandidate a = new StoreCandidate("a", List.of(new UsageLimit(10, 60 * SECOND, 0)), List.of(points),
                account);
        store.recordPastUses(endpoint, a, new long[] {T0 - 2 * SECOND, T0 - SECOND});
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0).usesPerLimit()).containsExactly(2, 2, 2);
    }

    @Test
    void aGrantThatUsesUpTheReportedRemainingAnswersCoolingDownUntilTheReset() {
        // the store's answer about a granted secret is for its next use: none is left upstream until the reset
        StoreCandidate a = candidate("a", new UsageLimit(100, 60 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 10, 1, T0 + 30 * SECOND, T0), T0);

        StoreDecision d = acquire(LeaseTerms.NONE, T0 + 1, "l1", a);

        assertThat(d.isGranted()).isTrue();
        assertThat(d.examined()).containsExactly(new Availability(T0 + 30 * SECOND, UnavailableCause.COOLING_DOWN));
    }

    @Test
    void aRouteBucketsUpstreamReportAtZeroHoldsBackOnlyTheCallsCountingInIt() {
        // given a key with a search bucket, whose upstream reported the search quota used up
        StoreCandidate search = candidate("a~route:search", new UsageLimit(30, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5000, 3600 * SECOND, 0));
        StoreCandidate otherCall = routed("a", List.of(), new UsageLimit(5000, 3600 * SECOND, 0));
        store.recordQuota(endpoint, "a~route:search", new UpstreamQuota("", 30, 0, T0 + 40 * SECOND, T0), T0);

        // then a search call waits for the search reset, as at a full window of the bucket (index 1: its first limit)
        StoreDecision refused = acquire(LeaseTerms.NONE, T0 + SECOND, "l1", searchCall);
        assertThat(refused.isGranted()).isFalse();
        assertThat(refused.examined()).containsExactly(Availability.atLimit(T0 + 40 * SECOND, 1));
        // and other calls on the same key go on
        StoreDecision other = acquire(LeaseTerms.NONE, T0 + SECOND, "l2", otherCall);
        assertThat(other.isGranted()).isTrue();
        assertThat(other.examined()).containsExactly(new Availability(T0 + SECOND, UnavailableCause.READY));
        assertThat(store.usage(endpoint, otherCall, LeaseTerms.NONE, T0 + SECOND).cooldownUntil()).isZero();
        assertThat(acquire(LeaseTerms.NONE, T0 + 40 * SECOND, "l3", searchCall).isGranted()).isTrue();
    }

    @Test
    void theKeysUpstreamReportAtZeroHoldsBackCallsInItsRouteBucketsToo() {
        StoreCandidate search = candidate("a~route:search", new UsageLimit(30, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5000, 3600 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 5000, 0, T0 + 40 * SECOND, T0), T0);

        assertThat(acquire(LeaseTerms.NONE, T0 + SECOND, "l1", searchCall).examined())
                .containsExactly(new Availability(T0 + 40 * SECOND, UnavailableCause.COOLING_DOWN));
    }

    @Test
    void aGrantTakesItsUnitsOffTheKeysReportAndOffEachReportOfTheRouteBucketsItCountsIn() {
        StoreCandidate search = candidate("a~route:search", new UsageLimit(30, 60 * SECOND, 0));
        StoreCandidate code = candidate("a~route:code", new UsageLimit(10, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5000, 3600 * SECOND, 0));
        StoreCandidate codeCall = routed("a", List.of(search, code), new UsageLimit(5000, 3600 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 5000, 100, T0 + 3600 * SECOND, T0), T0);
        store.recordQuota(endpoint, "a~route:search", new UpstreamQuota("", 30, 3, T0 + 40 * SECOND, T0), T0);
        store.recordQuota(endpoint, "a~route:code", new UpstreamQuota("", 10, 9, T0 + 40 * SECOND, T0), T0);

        assertThat(acquire(LeaseTerms.NONE, T0 + 1, "l1", searchCall).isGranted()).isTrue();
        assertThat(store.acquire(endpoint, new StoreCandidate[] {codeCall}, 1, LeaseTerms.NONE, "l2", T0 + 2, 2)
                .examined()).containsExactly(Availability.atLimit(T0 + 40 * SECOND, 1));

        SecretUsage u = store.usage(endpoint, codeCall, LeaseTerms.NONE, T0 + 3);
        assertThat(u.upstream().remaining()).isEqualTo(97);
        assertThat(u.routeUpstream()).containsOnlyKeys("a~route:search", "a~route:code");
        assertThat(u.routeUpstream().get("a~route:search"))
                .isEqualTo(new UpstreamQuota("", 30, 0, T0 + 40 * SECOND, T0));
        assertThat(u.routeUpstream().get("a~route:code").remaining()).isEqualTo(7);
        assertThat(acquire(LeaseTerms.NONE, T0 + 4, "l3", searchCall).isGranted()).isFalse();
    }

    @Test
    void aGrantGivenBackReturnsItsUnitsToTheKeysReportAndToItsRouteBucketsReports() {
        StoreCandidate search = candidate("a~route:search", new UsageLimit(30, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5000, 3600 * SECOND, 0));
        store.recordQuota(endpoint, "a", new UpstreamQuota("", 5000, 100, T0 + 3600 * SECOND, T0), T0);
        store.recordQuota(endpoint, "a~route:search", new UpstreamQuota("", 30, 2, T0 + 40 * SECOND, T0), T0);
        assertThat(store.acquire(endpoint, new StoreCandidate[] {searchCall}, 1, LeaseTerms.NONE, "l1", T0 + 1, 2)
                .examined()).containsExactly(Availability.atLimit(T0 + 40 * SECOND, 1));

        assertThat(store.giveBack(endpoint, searchCall, LeaseTerms.NONE, "l1", T0 + 1, T0 + 2, 2))
                .isEqualTo(new Availability(T0 + 2, UnavailableCause.READY));

        SecretUsage u = store.usage(endpoint, searchCall, LeaseTerms.NONE, T0 + 3);
        assertThat(u.upstream().remaining()).isEqualTo(100);
        assertThat(u.routeUpstream().get("a~route:search").remaining()).isEqualTo(2);
    }

    @Test
    void aRouteBucketsUpstreamReportExpiresAtItsReset() {
        StoreCandidate search = candidate("a~route:search", new UsageLimit(30, 60 * SECOND, 0));
        StoreCandidate searchCall = routed("a", List.of(search), new UsageLimit(5000, 3600 * SECOND, 0));
        store.recordQuota(endpoint, "a~route:search", new UpstreamQuota("", 30, 4, T0 + 30 * SECOND, T0), T0);

        assertThat(store.usage(endpoint, searchCall, LeaseTerms.NONE, T0 + 30 * SECOND - 1).routeUpstream())
                .containsOnlyKeys("a~route:search");
        assertThat(store.usage(endpoint, searchCall, LeaseTerms.NONE, T0 + 30 * SECOND).routeUpstream()).isEmpty();
        assertThat(acquire(LeaseTerms.NONE, T0 + 30 * SECOND, "l1", searchCall).isGranted()).isTrue();
        assertThat(store.usage(endpoint, searchCall, LeaseTerms.NONE, T0 + 30 * SECOND).routeUpstream()).isEmpty();
    }

    @Test
    void aGrantGivenBackFreesItsSlotAndItsLeaseAtOnce() {
        // given a key of 1 use a minute, leased exclusively, granted once
        LeaseTerms exclusive = new LeaseTerms(1, 30 * SECOND);
        StoreCandidate a = candidate("a", new UsageLimit(1, 60 * SECOND, 0));
        assertThat(acquire(exclusive, T0, "l1", a).isGranted()).isTrue();

        // when the grant is given back unsent
        Availability after = store.giveBack(endpoint, a, exclusive, "l1", T0, T0 + SECOND, 1);

        // then it is free at once, for the lease and the window, and counts no use
        assertThat(after).isEqualTo(new Availability(T0 + SECOND, UnavailableCause.READY));
        assertThat(store.usage(endpoint, a, exclusive, T0 + SECOND).totalUses()).isZero();
        assertThat(store.usage(endpoint, a, exclusive, T0 + SECOND).usesPerLimit()).containsExactly(0);
        assertThat(acquire(exclusive, T0 + SECOND, "l2", a).isGranted()).isTrue();
        assertThat(store.usage(endpoint, a, exclusive, T0 + SECOND).totalUses()).isEqualTo(1);
    }

    @Test
    void givingBackWithdrawsTheGrantsUseAndKeepsTheOthers() {
        StoreCandidate a = candidate("a", new UsageLimit(2, 10 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        acquire(LeaseTerms.NONE, T0 + SECOND, "l2", a);

        store.giveBack(endpoint, a, LeaseTerms.NONE, "l2", T0 + SECOND, T0 + 2 * SECOND, 1);

        // the use at T0 still binds: one more fits now, then none until T0 + 10 s
        assertThat(acquire(LeaseTerms.NONE, T0 + 2 * SECOND, "l3", a).isGranted()).isTrue();
        assertThat(acquire(LeaseTerms.NONE, T0 + 3 * SECOND, "l4", a).examined())
                .containsExactly(Availability.atLimit(T0 + 10 * SECOND, 0));
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 3 * SECOND).totalUses()).isEqualTo(2);
    }

    @Test
    void aWeightedGrantGivenBackReturnsItsUnitsToItsRouteBucketAndGroup() {
        StoreCandidate account = candidate("~group:acct", new UsageLimit(6, 60 * SECOND, 0));
        StoreCandidate points = candidate("a~route:graphql", new UsageLimit(5, 60 * SECOND, 0));
        StoreCandidate a = new StoreCandidate("a", List.of(new UsageLimit(100, 60 * SECOND, 0)), List.of(points),
                account);
        StoreCandidate b = member("b", account, new UsageLimit(100, 60 * SECOND, 0));
        assertThat(store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0, 5).isGranted())
                .isTrue();

        store.giveBack(endpoint, a, LeaseTerms.NONE, "l1", T0, T0 + SECOND, 5);

        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + SECOND).usesPerLimit()).containsExactly(0, 0, 0);
        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + SECOND).totalUses()).isZero();
        // the whole group is b's again
        assertThat(store.acquire(endpoint, new StoreCandidate[] {b}, 1, LeaseTerms.NONE, "l2", T0 + SECOND, 6)
                .isGranted()).isTrue();
    }

    @Test
    void givingBackReturnsTheUnitsToTheReportedRemainingTheGrantCountedDown() {
        StoreCandidate a = candidate("a");
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 100, 10, T0 + 60 * SECOND, T0), T0);
        store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0 + SECOND, 4);

        store.giveBack(endpoint, a, LeaseTerms.NONE, "l1", T0 + SECOND, T0 + 2 * SECOND, 4);

        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 2 * SECOND).upstream().remaining()).isEqualTo(10);
    }

    @Test
    void givingBackLeavesAReportLearnedAfterTheGrantAsItIs() {
        // the later report was read after the grant: it was not counted down by it
        StoreCandidate a = candidate("a");
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 100, 10, T0 + 60 * SECOND, T0), T0);
        store.acquire(endpoint, new StoreCandidate[] {a}, 1, LeaseTerms.NONE, "l1", T0 + SECOND, 1);
        store.recordQuota(endpoint, "a", new UpstreamQuota("core", 100, 5, T0 + 60 * SECOND, T0 + 2 * SECOND),
                T0 + 2 * SECOND);

        store.giveBack(endpoint, a, LeaseTerms.NONE, "l1", T0 + SECOND, T0 + 3 * SECOND, 1);

        assertThat(store.usage(endpoint, a, LeaseTerms.NONE, T0 + 3 * SECOND).upstream().remaining()).isEqualTo(5);
    }

    @Test
    void givingBackAUseNoLongerHeldIsHarmless() {
        StoreCandidate a = candidate("a", new UsageLimit(1, 10 * SECOND, 0));
        acquire(LeaseTerms.NONE, T0, "l1", a);
        assertThat(store.restamp(endpoint, a, "l1", T0, T0 + 5 * SECOND))
                .isEqualTo(new Availability(T0 + 5 * SECOND, UnavailableCause.READY));

        // the use moved away from T0 (and an unknown secret has none at all)
        store.giveBack(endpoint, a, LeaseTerms.NONE, "l1", T0, T0 + 6 * SECOND, 1);
        store.giveBack(endpoint, candidate("unknown"), LeaseTerms.NONE, "x", T0, T0 + 6 * SECOND, 1);

        assertThat(acquire(LeaseTerms.NONE, T0 + 6 * SECOND, "l2", a).examined())
                .containsExactly(Availability.atLimit(T0 + 15 * SECOND, 0));
        assertThat(store.usage(endpoint, candidate("unknown"), LeaseTerms.NONE, T0 + 6 * SECOND).totalUses())
                .isZero();
    }
}
