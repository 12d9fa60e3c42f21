package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.clock.SystemClock;
import org.apache.hc.core5.concurrent.Cancellable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The watchdog of the proxy port's read timeouts (end to end: UpstreamReadTimeoutTest). */
class ReadDeadlinesTest {

    final FakeClock clock = new FakeClock();
    final ReadDeadlines deadlines = new ReadDeadlines(clock);
    final AtomicInteger cancelled = new AtomicInteger();
    final Cancellable exchange = () -> {
        cancelled.incrementAndGet();
        return true;
    };

    @AfterEach
    void close() {
        deadlines.close();
    }

    @Test
    void anExchangeWaitingLongerThanItsTimeoutIsCancelledOnce() {
        // given an exchange watched with a 5 s read timeout
        ReadDeadlines.Watch watch = deadlines.watch(Duration.ofSeconds(5), exchange);

        // when 5 s pass, the watchdog leaves it; a moment later it cancels it
        clock.advance(Duration.ofSeconds(5));
        deadlines.expire();
        assertThat(cancelled).hasValue(0);
        clock.advance(Duration.ofMillis(1));
        deadlines.expire();
        deadlines.expire();

        // then it is cancelled once, says so, and is no longer watched
        assertThat(cancelled).hasValue(1);
        assertThat(watch.timedOut()).isTrue();
        assertThat(deadlines.watching()).isZero();
    }

    @Test
    void bytesArrivingPushTheDeadlineOn() {
        ReadDeadlines.Watch watch = deadlines.watch(Duration.ofSeconds(5), exchange);

        // a body trickling in every 4 s never waits 5 s for its next bytes
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(4));
            deadlines.expire();
            watch.progressed();
        }
        assertThat(cancelled).hasValue(0);

        // until it stalls
        clock.advance(Duration.ofSeconds(6));
        deadlines.expire();
        assertThat(cancelled).hasValue(1);
    }

    @Test
    void aPausedWatchIsNotTimedOutUntilItResumes() {
        // dialling the upstream proxy has its own connect timeout
        ReadDeadlines.Watch watch = deadlines.watch(Duration.ofSeconds(1), exchange);
        watch.pause();
        clock.advance(Duration.ofMinutes(10));
        deadlines.expire();
        assertThat(cancelled).hasValue(0);

        watch.progressed();
        clock.advance(Duration.ofSeconds(2));
        deadlines.expire();
        assertThat(cancelled).hasValue(1);
    }

    @Test
    void anExchangeThatEndedIsNeverCancelled() {
        ReadDeadlines.Watch watch = deadlines.watch(Duration.ofSeconds(1), exchange);
        watch.done();
        clock.advance(Duration.ofSeconds(2));
        deadlines.expire();

        assertThat(cancelled).hasValue(0);
        assertThat(watch.timedOut()).isFalse();
        assertThat(deadlines.watching()).isZero();
    }

    @Test
    void theWatchdogThreadCancelsWithoutBeingAsked() throws Exception {
        // given the system clock and a 50 ms timeout
        try (ReadDeadlines running = new ReadDeadlines(SystemClock.INSTANCE)) {
            CountDownLatch fired = new CountDownLatch(1);
            long started = System.nanoTime();
            ReadDeadlines.Watch watch = running.watch(Duration.ofMillis(50), () -> {
                fired.countDown();
                return true;
            });

            // then its own thread cancels the exchange, not before the timeout
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(Duration.ofMillis(50).toNanos());
            assertThat(watch.timedOut()).isTrue();
        }
    }
}
