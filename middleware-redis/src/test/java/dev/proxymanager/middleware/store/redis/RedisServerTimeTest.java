package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageLimit;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With Redis's clock ({@code TIME} in the script, the default) every process decides on one clock: processes whose
 * own clocks differ cannot each grant the same slot, and what the store answers is on each caller's own clock.
 */
class RedisServerTimeTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final String ENDPOINT = "clock";
    private static final StoreCandidate ONE_PER_2S = new StoreCandidate("k", List.of(new UsageLimit(1, 2 * SECOND, 0)));

    @AutoClose
    private final RedisUsageStore processA = fresh(true);
    @AutoClose
    private final RedisUsageStore processB = RedisUsageStore.builder(RedisTestServer.shared().uri()).build();

    private static RedisUsageStore fresh(boolean redisTime) {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        return RedisUsageStore.builder(redis.uri()).withRedisTime(redisTime).build();
    }

    private static StoreDecision acquire(RedisUsageStore store, String leaseId, long now) {
        return store.acquire(ENDPOINT, new StoreCandidate[] {ONE_PER_2S}, 1, LeaseTerms.NONE, leaseId, now);
    }

    @Test
    void aProcessWhoseClockIsAheadCannotTakeTheSlotAnotherJustUsed() {
        long nowA = Clock.system().nanoTime();
        long nowB = nowA + 5 * SECOND; // B's clock runs 5 s ahead: by its own clock the window has passed
        assertThat(acquire(processA, "a1", nowA).isGranted()).isTrue();

        StoreDecision b = acquire(processB, "b1", nowB);

        assertThat(b.isGranted()).isFalse();
        // on B's own clock the slot frees about 2 s from B's now, not 3 s in its past
        assertThat(b.examined().get(0).freeAt()).isBetween(nowB + 2 * SECOND - 500 * MS, nowB + 2 * SECOND + 500 * MS);
    }

    @Test
    void withEachCallersOwnClockTheSameSkewGrantsTheSlotTwice() {
        try (RedisUsageStore callerTimeA = fresh(false);
             RedisUsageStore callerTimeB = RedisUsageStore.builder(RedisTestServer.shared().uri()).withRedisTime(false)
                     .build()) {
            long nowA = Clock.system().nanoTime();
            assertThat(acquire(callerTimeA, "a1", nowA).isGranted()).isTrue();
            assertThat(acquire(callerTimeB, "b1", nowA + 5 * SECOND).isGranted()).isTrue();
        }
    }

    @Test
    void restampMovesTheUseRecordedOnRedisClockToRedisNow() throws InterruptedException {
        long skew = -3 * SECOND; // this process's clock is 3 s behind Redis's
        long granted = Clock.system().nanoTime() + skew;
        assertThat(acquire(processA, "a1", granted).isGranted()).isTrue();
        long freeBefore = acquire(processA, "a2", granted).examined().get(0).freeAt();
        Thread.sleep(200); // the request waits before it is written

        long now = Clock.system().nanoTime() + skew;
        Availability moved = processA.restamp(ENDPOINT, ONE_PER_2S, "a1", granted, now);

        assertThat(moved.cause()).isEqualTo(UnavailableCause.READY);
        assertThat(processA.usage(ENDPOINT, ONE_PER_2S, LeaseTerms.NONE, now).totalUses()).isEqualTo(1);
        long freeAfter = acquire(processA, "a3", now).examined().get(0).freeAt();
        assertThat(freeAfter - freeBefore).isGreaterThanOrEqualTo(200 * MS);
    }
}
