package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageLimit;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Redis store decides exactly as the in-memory one: the script only compares times and the store works out
 * availabilities in Java, so a long random workload (several limits, a request count of 1, usage caps, shared leases,
 * cooldowns, removals, re-stamps, grants given back, a guard band, callers whose clocks lag, route buckets, a quota group, weighted
 * calls of up to 3 units, some larger than a limit, past uses, and upstream reports on keys and on route buckets) must give the same answer to every call from both.
 */
class RedisUsageStoreAgreementTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 1_767_225_600L * SECOND;
    private static final String ENDPOINT = "agree";
    private static final LeaseTerms SHARED = new LeaseTerms(2, 3 * SECOND);
    private static final StoreCandidate ACCOUNT = new StoreCandidate("~group:acct",
            List.of(new UsageLimit(7, 10 * SECOND, 0)));
    private static final StoreCandidate SEARCH = new StoreCandidate("routed~route:search",
            List.of(new UsageLimit(3, 5 * SECOND, 0), new UsageLimit(5, 20 * SECOND, 0)));
    private static final StoreCandidate ONE_A_SECOND = new StoreCandidate("member~route:upload",
            List.of(new UsageLimit(1, SECOND, 0, 30 * MS)));
    private static final StoreCandidate UNLIMITED_ROUTE = new StoreCandidate("routed~route:free", List.of());
    private static final List<StoreCandidate> SECRETS = List.of(
            new StoreCandidate("one-per-2s", List.of(new UsageLimit(1, 2 * SECOND, 0, 30 * MS))),
            new StoreCandidate("two-limits", List.of(new UsageLimit(3, 10 * SECOND, 0),
                    new UsageLimit(5, 60 * SECOND, 30 * SECOND))),
            new StoreCandidate("capped", List.of(new UsageLimit(2, 5 * SECOND, 7 * SECOND))),
            new StoreCandidate("unlimited", List.of()),
            // one key's calls: those matching the search bucket, the free one, or none; its own limit counts them all
            new StoreCandidate("routed", List.of(new UsageLimit(8, 10 * SECOND, 0)), List.of(SEARCH), null),
            new StoreCandidate("routed", List.of(new UsageLimit(8, 10 * SECOND, 0)),
                    List.of(UNLIMITED_ROUTE, SEARCH), null),
            new StoreCandidate("routed", List.of(new UsageLimit(8, 10 * SECOND, 0))),
            // an account's keys: the group's limit counts both; one call kind adds a bucket smaller than 3 units
            new StoreCandidate("member", List.of(new UsageLimit(4, 3 * SECOND, 0, 20 * MS)), List.of(ONE_A_SECOND),
                    ACCOUNT),
            new StoreCandidate("member", List.of(new UsageLimit(4, 3 * SECOND, 0, 20 * MS)), ACCOUNT),
            new StoreCandidate("other-member", List.of(new UsageLimit(5, 10 * SECOND, 4 * SECOND)), ACCOUNT));

    /** Ids the upstream reports about: keys, and route buckets (reports on calls that counted in them). */
    private static final List<String> REPORTED = List.of("routed", "routed~route:search", "routed~route:free",
            "member", "member~route:upload", "two-limits");

    @AutoClose
    private final RedisUsageStore redis = freshRedisStore();
    private final InMemoryUsageStore memory = new InMemoryUsageStore();

    private static RedisUsageStore freshRedisStore() {
        RedisTestServer server = RedisTestServer.shared();
        server.flushAll();
        return RedisUsageStore.builder(server.uri()).withRedisTime(false).build();
    }

    private record Held(StoreCandidate secret, String leaseId) {
    }

    private record Grant(StoreCandidate secret, LeaseTerms terms, String leaseId, long usedAt, int units) {
    }

    @Test
    void everyCallOfARandomWorkloadGetsTheSameAnswerFromBothStores() {
        Random random = new Random(42);
        List<Held> held = new ArrayList<>();
        long now = T0;
        int grants = 0;
        int refusals = 0;
        int weightedGrants = 0;
        int givenBack = 0;
        int reports = 0;
        Grant last = null;
        for (int step = 0; step < 3_000; step++) {
            now += random.nextInt(700) * MS;
            // a caller whose clock is up to 300 ms behind: its uses land behind newer ones
            long callerNow = random.nextInt(10) == 0 ? now - random.nextInt(300) * MS : now;
            int action = random.nextInt(100);
            if (action < 60 || held.isEmpty()) {
                LeaseTerms terms = random.nextBoolean() ? SHARED : LeaseTerms.NONE;
                StoreCandidate[] candidates = shuffled(random);
                int count = 1 + random.nextInt(candidates.length);
                String leaseId = "lease-" + step;
                int units = random.nextInt(3) == 0 ? 2 + random.nextInt(2) : 1;
                StoreDecision expected = memory.acquire(ENDPOINT, candidates, count, terms, leaseId, callerNow,
                        units);
                StoreDecision actual = redis.acquire(ENDPOINT, candidates, count, terms, leaseId, callerNow, units);
                assertThat(actual).as("acquire of %d units at step %d", units, step).isEqualTo(expected);
                if (expected.isGranted()) {
                    grants++;
                    weightedGrants += units > 1 ? 1 : 0;
                    last = new Grant(candidates[expected.granted()], terms, leaseId, callerNow, units);
                    if (terms.leased()) {
                        held.add(new Held(candidates[expected.granted()], leaseId));
                    }
                } else {
                    refusals++;
                }
            } else if (action < 66 && last != null) {
                // the request of the last grant is written only now: its use moves here if the limits admit it
                Availability expected = memory.restamp(ENDPOINT, last.secret(), last.leaseId(), last.usedAt(), now,
                        last.units());
                Availability actual = redis.restamp(ENDPOINT, last.secret(), last.leaseId(), last.usedAt(), now,
                        last.units());
                assertThat(actual).as("restamp at step %d", step).isEqualTo(expected);
                last = null;
            } else if (action < 70 && last != null) {
                // nothing was sent with the last grant: its lease ends and its uses leave every log of the call
                Grant g = last;
                Availability expected = memory.giveBack(ENDPOINT, g.secret(), g.terms(), g.leaseId(), g.usedAt(),
                        callerNow, g.units());
                Availability actual = redis.giveBack(ENDPOINT, g.secret(), g.terms(), g.leaseId(), g.usedAt(),
                        callerNow, g.units());
                assertThat(actual).as("giveBack of %d units at step %d", g.units(), step).isEqualTo(expected);
                held.removeIf(h -> h.leaseId().equals(g.leaseId()));
                givenBack++;
                last = null;
            } else if (action < 90) {
                Held h = held.remove(random.nextInt(held.size()));
                long cooldownUntil = random.nextInt(4) == 0 ? now + random.nextInt(5_000) * MS : 0;
                boolean remove = random.nextInt(50) == 0;
                Availability expected = memory.release(ENDPOINT, h.secret(), SHARED, h.leaseId(), callerNow,
                        cooldownUntil, remove);
                Availability actual = redis.release(ENDPOINT, h.secret(), SHARED, h.leaseId(), callerNow,
                        cooldownUntil, remove);
                assertThat(actual).as("release at step %d", step).isEqualTo(expected);
            } else if (action < 91) {
                String id = SECRETS.get(random.nextInt(SECRETS.size())).secretId();
                memory.restore(ENDPOINT, id);
                redis.restore(ENDPOINT, id);
            } else if (action < 93) {
                // the upstream's report on a call: a key's, or a route bucket's (it holds for that bucket's calls)
                String id = REPORTED.get(random.nextInt(REPORTED.size()));
                UpstreamQuota q = new UpstreamQuota(random.nextBoolean() ? "" : "p", random.nextInt(4) == 0 ? -1 : 5,
                        random.nextInt(4), now + random.nextInt(8_000) * MS, callerNow - random.nextInt(200) * MS);
                memory.recordQuota(ENDPOINT, id, q, callerNow);
                redis.recordQuota(ENDPOINT, id, q, callerNow);
                reports++;
            } else if (action < 94) {
                // uses learned afterwards (a restart's request log): in the secret's log and its buckets' and group's
                StoreCandidate secret = SECRETS.get(random.nextInt(SECRETS.size()));
                long[] past = {now - random.nextInt(4_000) * MS, now - random.nextInt(4_000) * MS};
                memory.recordPastUses(ENDPOINT, secret, past);
                redis.recordPastUses(ENDPOINT, secret, past);
            } else {
                StoreCandidate secret = SECRETS.get(random.nextInt(SECRETS.size()));
                LeaseTerms terms = random.nextBoolean() ? SHARED : LeaseTerms.NONE;
                assertThat(redis.usage(ENDPOINT, secret, terms, now)).as("usage at step %d", step)
                        .isEqualTo(memory.usage(ENDPOINT, secret, terms, now));
            }
        }
        // the workload exercised both outcomes, not just one
        assertThat(grants).isGreaterThan(300);
        assertThat(refusals).isGreaterThan(300);
        assertThat(weightedGrants).isGreaterThan(100);
        assertThat(givenBack).isGreaterThan(50);
        assertThat(reports).isGreaterThan(30);
    }

    @Test
    void logStaysBoundedWhileItIsTrimmedInSteps() {
        StoreCandidate secret = new StoreCandidate("busy", List.of(new UsageLimit(3, SECOND, 0)));
        RedisTestServer server = RedisTestServer.shared();
        RedisClient client = RedisClient.create(server.uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            String log = redis.keysOf(ENDPOINT, "busy")[0];
            long longest = 0;
            for (int i = 0; i < 200; i++) {
                long now = T0 + i * 400 * MS; // at most 3 uses in any second: every call is granted
                assertThat(redis.acquire(ENDPOINT, new StoreCandidate[] {secret}, 1, LeaseTerms.NONE, "l" + i, now)
                        .isGranted()).as("use %d", i).isTrue();
                longest = Math.max(longest, connection.sync().llen(log));
            }
            assertThat(longest).isGreaterThan(3).isLessThanOrEqualTo(3 + 16); // trimmed back to 3 once it passes 3 + 16
        } finally {
            client.shutdown();
        }
    }

    private static StoreCandidate[] shuffled(Random random) {
        List<StoreCandidate> list = new ArrayList<>(SECRETS);
        Collections.shuffle(list, random);
        return list.toArray(new StoreCandidate[0]);
    }
}
