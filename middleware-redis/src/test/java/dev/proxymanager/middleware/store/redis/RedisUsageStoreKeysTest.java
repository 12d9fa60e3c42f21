package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageLimit;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Redis layout adds to the store contract: uses stay ordered across callers whose clocks differ, and every
 * key's expiry covers what it holds.
 */
class RedisUsageStoreKeysTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 1_767_225_600L * SECOND;
    private static final LeaseTerms EXCLUSIVE = new LeaseTerms(1, 30 * SECOND);

    private final RedisTestServer redis = RedisTestServer.shared();
    private RedisUsageStore store;
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisCommands<String, String> commands;

    @BeforeEach
    void open() {
        redis.flushAll();
        store = RedisUsageStore.builder(redis.uri()).withRedisTime(false).build();
        client = RedisClient.create(redis.uri());
        connection = client.connect();
        commands = connection.sync();
    }

    @AfterEach
    void close() {
        store.close();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    private static StoreCandidate[] one(String id, UsageLimit limit) {
        return new StoreCandidate[] {new StoreCandidate(id, List.of(limit))};
    }

    private StoreDecision acquire(StoreCandidate[] c, LeaseTerms terms, String leaseId, long now) {
        return store.acquire("keys", c, 1, terms, leaseId, now);
    }

    @Test
    void useFromACallerWhoseClockIsBehindCountsFromItsOwnTime() {
        StoreCandidate[] a = one("a", new UsageLimit(2, 10 * SECOND, 0));
        acquire(a, LeaseTerms.NONE, "l1", T0 + 5 * SECOND);

        assertThat(acquire(a, LeaseTerms.NONE, "l2", T0).isGranted()).isTrue();

        // the window is full; it frees when the older use (T0, recorded second) ages out, not the newer one
        StoreDecision denied = acquire(a, LeaseTerms.NONE, "l3", T0 + 6 * SECOND);
        assertThat(denied.isGranted()).isFalse();
        assertThat(denied.examined()).singleElement().isEqualTo(Availability.atLimit(T0 + 10 * SECOND, 0));
        assertThat(acquire(a, LeaseTerms.NONE, "l4", T0 + 10 * SECOND).isGranted()).isTrue();
    }

    @Test
    void grantGivesEveryKeyAnExpiry() {
        StoreCandidate[] a = one("a", new UsageLimit(5, SECOND, 0));

        acquire(a, EXCLUSIVE, "l1", T0);

        String[] keys = store.keysOf("keys", "a");
        assertThat(commands.pttl(keys[0])).isBetween(1L, 61_000L); // window + a minute
        assertThat(commands.pttl(keys[1])).isBetween(Duration.ofDays(6).toMillis(), Duration.ofDays(7).toMillis());
        assertThat(commands.pttl(keys[2])).isBetween(1L, 31_000L); // lease TTL + 1 s
    }

    @Test
    void aLogCreatedAgainGetsAnExpiryThoughItsLastRenewalIsRecent() {
        StoreCandidate[] a = one("a", new UsageLimit(5, SECOND, 0));
        acquire(a, LeaseTerms.NONE, "l1", T0);
        String log = store.keysOf("keys", "a")[0];
        commands.del(log); // e.g. evicted under maxmemory: the state still says the log's expiry was renewed lately

        acquire(a, LeaseTerms.NONE, "l2", T0 + SECOND);

        assertThat(commands.pttl(log)).isBetween(1L, 61_000L);
    }

    @Test
    void stateOutlivesACooldownLongerThanTheStateTtl() {
        long days30 = TimeUnit.DAYS.toNanos(30);
        StoreCandidate[] a = one("a", new UsageLimit(1, SECOND, days30));

        acquire(a, LeaseTerms.NONE, "l1", T0);

        assertThat(commands.pttl(store.keysOf("keys", "a")[1])).isGreaterThanOrEqualTo(Duration.ofDays(30).toMillis());
    }
}
