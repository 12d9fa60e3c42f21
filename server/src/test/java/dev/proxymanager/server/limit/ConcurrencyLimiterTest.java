package dev.proxymanager.server.limit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ConcurrencyLimiterTest {

    @Test
    void rejectsAtOnceWhenSlotsAndQueueAreFull() throws Exception {
        // given one slot taken and a queue of one taken
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(1, 1);
        ConcurrencyLimiter.Permit held = limiter.tryAcquire(Duration.ofSeconds(1));
        CompletableFuture<ConcurrencyLimiter.Permit> queued = CompletableFuture.supplyAsync(() -> {
            try {
                return limiter.tryAcquire(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> limiter.waiting() == 1);

        // when a third caller arrives / then it is refused without waiting
        assertThat(limiter.tryAcquire(Duration.ofSeconds(30))).isNull();

        // and when the slot is released the queued caller gets it
        held.close();
        ConcurrencyLimiter.Permit second = queued.get();
        assertThat(second).isNotNull();
        assertThat(limiter.active()).isEqualTo(1);
        second.close();
        second.close(); // a second close gives nothing back twice
        assertThat(limiter.active()).isZero();
    }

    @Test
    void resizingUpWakesWaitingCallers() throws Exception {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(1, 5);
        limiter.tryAcquire(Duration.ofSeconds(1));
        CompletableFuture<ConcurrencyLimiter.Permit> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return limiter.tryAcquire(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> limiter.waiting() == 1);

        limiter.resize(2, 5);

        assertThat(waiting.get()).isNotNull();
        assertThat(limiter.active()).isEqualTo(2);
    }

    @Test
    void boundsAreValidated() {
        assertThatThrownBy(() -> new ConcurrencyLimiter(0, 1)).hasMessage("max_concurrent_requests must be > 0, was 0");
        assertThatThrownBy(() -> new ConcurrencyLimiter(1, -1)).hasMessage("max_queue_size must be >= 0, was -1");
    }
}
