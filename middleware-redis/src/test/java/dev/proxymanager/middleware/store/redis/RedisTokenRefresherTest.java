package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.token.TokenRefresher;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Token refresh is single-flight across processes: two clients stand for two processes sharing one Redis. */
class RedisTokenRefresherTest {

    private final RedisTestServer redis = RedisTestServer.shared();
    private final FakeClock clock = new FakeClock();
    private final AtomicInteger refreshes = new AtomicInteger();
    private final CountDownLatch refreshMayFinish = new CountDownLatch(1);
    private final List<RedisTokenRefresher> refreshers = new ArrayList<>();

    private final TokenRefresher upstream = secretId -> {
        int n = refreshes.incrementAndGet();
        // hold the refresh open until every caller is waiting, so they really overlap
        if (!refreshMayFinish.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("test did not release the refresh");
        }
        return "guest-token-" + n;
    };

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    @AfterEach
    void close() {
        refreshers.forEach(RedisTokenRefresher::close);
    }

    private RedisTokenRefresher process() {
        RedisTokenRefresher r = new RedisTokenRefresher(redis.uri(), upstream, clock, Duration.ofMinutes(2),
                Duration.ofSeconds(10));
        refreshers.add(r);
        return r;
    }

    @Test
    void concurrentRefreshesInTwoProcessesCallTheUpstreamOnce() throws Exception {
        // given two "processes", each with four threads finding the token invalid at once
        RedisTokenRefresher first = process();
        RedisTokenRefresher second = process();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                RedisTokenRefresher r = i % 2 == 0 ? first : second;
                results.add(pool.submit(() -> r.refresh("p1")));
            }
            // when the one refresh finishes
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> refreshes.get() == 1);
            refreshMayFinish.countDown();

            // then every caller gets its token and the upstream was asked once
            for (Future<String> f : results) {
                assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("guest-token-1");
            }
            assertThat(refreshes).hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refreshesAgainOnlyAfterTheMinimumInterval() throws Exception {
        // given a token refreshed by one process
        refreshMayFinish.countDown();
        RedisTokenRefresher first = process();
        RedisTokenRefresher second = process();
        assertThat(first.refresh("p1")).isEqualTo("guest-token-1");

        // when the other process asks within two minutes, it gets the shared token
        clock.advance(Duration.ofSeconds(119));
        assertThat(second.refresh("p1")).isEqualTo("guest-token-1");

        // and after two minutes a new one is fetched
        clock.advance(Duration.ofSeconds(1));
        assertThat(second.refresh("p1")).isEqualTo("guest-token-2");
        assertThat(refreshes).hasValue(2);
    }

    @Test
    void waiterGivesUpAfterTwiceTheLockTtlOnTheInjectedClock() {
        // given another process holding p1's lock (for longer than the test, in real time)
        try (io.lettuce.core.RedisClient other = io.lettuce.core.RedisClient.create(redis.uri());
             var connection = other.connect()) {
            connection.sync().set("pm:{tokens}:v1:p1:lock", "someone-else",
                    io.lettuce.core.SetArgs.Builder.px(Duration.ofMinutes(5).toMillis()));
            // a refresher whose waits advance the fake clock instead of passing real time
            RedisTokenRefresher waiting = new RedisTokenRefresher(redis.uri(), upstream, clock, clock::advance,
                    Duration.ofMinutes(2), Duration.ofSeconds(10));
            refreshers.add(waiting);
            java.time.Instant start = clock.now();

            // when it waits for that refresh, then: it gives up once 20 s have passed on its clock, without real waiting
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> waiting.refresh("p1"))
                            .isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("did not finish within 20000 ms"));
            assertThat(Duration.between(start, clock.now())).isGreaterThan(Duration.ofSeconds(20))
                    .isLessThan(Duration.ofSeconds(21));
            assertThat(refreshes).hasValue(0);
        }
    }
}
