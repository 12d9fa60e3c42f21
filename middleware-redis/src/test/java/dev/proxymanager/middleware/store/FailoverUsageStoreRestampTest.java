package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.store.redis.RedisUsageStore;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A re-stamp while Redis is down never holds a request back: fail-closed sends it as granted before the outage,
 * fail-open moves the use in its local counts (where it was granted), so those stay true at the upstream.
 */
class FailoverUsageStoreRestampTest {

    private static final long SECOND = 1_000_000_000L;
    private static final StoreCandidate ONE_PER_MINUTE =
            new StoreCandidate("a", List.of(new UsageLimit(1, 60 * SECOND, 0)));

    private final RedisTestServer redis = RedisTestServer.dedicated();
    private final FakeClock clock = new FakeClock();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void redisIsUp() {
        redis.start();
        redis.flushAll();
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        redis.close();
    }

    private FailoverUsageStore store(FailoverUsageStore.Mode mode) {
        RedisUsageStore primary = RedisUsageStore.builder(redis.uri()).withCommandTimeout(Duration.ofMillis(500)).build();
        FailoverUsageStore s = FailoverUsageStore.builder(primary).withMode(mode).withClock(clock)
                .withProbeInterval(Duration.ofSeconds(1)).build();
        toClose.add(s);
        return s;
    }

    private StoreDecision acquire(UsageStore s, String leaseId, long now) {
        return s.acquire("search", new StoreCandidate[] {ONE_PER_MINUTE}, 1, LeaseTerms.NONE, leaseId, now);
    }

    @Test
    void failClosedSendsAUseGrantedBeforeTheOutage() {
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_CLOSED);
        long grantedAt = clock.nanoTime();
        assertThat(acquire(store, "l1", grantedAt).isGranted()).isTrue();
        redis.stop();

        long writtenAt = grantedAt + SECOND;
        assertThat(store.restamp("search", ONE_PER_MINUTE, "l1", grantedAt, writtenAt))
                .isEqualTo(new Availability(writtenAt, UnavailableCause.READY));
    }

    @Test
    void failOpenMovesTheUseInItsLocalCounts() {
        FailoverUsageStore store = store(FailoverUsageStore.Mode.FAIL_OPEN);
        redis.stop();
        long grantedAt = clock.nanoTime();
        assertThat(acquire(store, "l1", grantedAt).isGranted()).isTrue(); // counted locally

        long writtenAt = grantedAt + SECOND;
        assertThat(store.restamp("search", ONE_PER_MINUTE, "l1", grantedAt, writtenAt))
                .isEqualTo(new Availability(writtenAt, UnavailableCause.READY));
        // the local window counts from the write, not the grant
        assertThat(acquire(store, "l2", grantedAt + 60 * SECOND).isGranted()).isFalse();
        assertThat(acquire(store, "l3", writtenAt + 60 * SECOND).isGranted()).isTrue();
    }
}
