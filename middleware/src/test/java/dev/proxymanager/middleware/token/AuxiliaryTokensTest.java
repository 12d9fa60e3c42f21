package dev.proxymanager.middleware.token;

import dev.proxymanager.middleware.clock.FakeClock;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class AuxiliaryTokensTest {

    private final FakeClock clock = new FakeClock();
    private final AtomicInteger refreshes = new AtomicInteger();

    @Test
    void manyThreadsFindingTheTokenInvalidShareOneRefresh() throws Exception {
        // given: a refresh that blocks until released
        CountDownLatch release = new CountDownLatch(1);
        AuxiliaryTokens tokens = new AuxiliaryTokens(id -> {
            refreshes.incrementAndGet();
            if (refreshes.get() > 1) {
                release.await(10, TimeUnit.SECONDS);
            }
            return "token-" + refreshes.get();
        }, clock, Duration.ofMinutes(2));
        String first = tokens.current("p1");
        clock.advance(Duration.ofMinutes(3));
        // when: 8 threads report it invalid at once
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> results = new ArrayList<>();
        List<Thread> callers = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < 8; i++) {
            results.add(pool.submit(() -> {
                callers.add(Thread.currentThread());
                return tokens.invalidate("p1", first);
            }));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> callers.size() == 8
                && callers.stream().allMatch(t -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING));
        release.countDown();
        // then
        for (Future<String> f : results) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("token-2");
        }
        assertThat(refreshes.get()).isEqualTo(2);
        pool.shutdown();
    }

    @Test
    void tokenRefreshedWithinMinimumIntervalIsNotRefreshedAgain() {
        AuxiliaryTokens tokens = new AuxiliaryTokens(id -> "t" + refreshes.incrementAndGet(), clock, Duration.ofMinutes(2));
        String t1 = tokens.current("p1");
        clock.advance(Duration.ofSeconds(119));
        assertThat(tokens.invalidate("p1", t1)).isEqualTo(t1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.invalidate("p1", t1)).isEqualTo("t2");
        // a stale report about an older token returns the current one
        clock.advance(Duration.ofMinutes(5));
        assertThat(tokens.invalidate("p1", t1)).isEqualTo("t2");
        assertThat(refreshes.get()).isEqualTo(2);
    }

    @Test
    void failedRefreshNamesTheSecretAndCanBeRetried() {
        AtomicInteger calls = new AtomicInteger();
        AuxiliaryTokens tokens = new AuxiliaryTokens(id -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("upstream said 503");
            }
            return "ok";
        }, clock, Duration.ZERO);
        assertThatThrownBy(() -> tokens.current("p7")).isInstanceOf(TokenRefreshException.class)
                .hasMessageContaining("secret p7").hasMessageContaining("upstream said 503");
        assertThat(tokens.current("p7")).isEqualTo("ok");
    }
}
