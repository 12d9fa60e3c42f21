package dev.proxymanager.middleware.clock;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FakeClockTest {

    @Test
    void advancesTickerAndWallTimeTogether() {
        FakeClock clock = new FakeClock(Instant.parse("2026-03-01T10:00:00Z"));
        long before = clock.nanoTime();
        clock.advance(Duration.ofMillis(1500));
        assertThat(clock.nanoTime() - before).isEqualTo(1_500_000_000L);
        assertThat(clock.now()).isEqualTo(Instant.parse("2026-03-01T10:00:01.500Z"));
        assertThat(Clock.toInstant(clock.nanoTime())).isEqualTo(clock.now());
    }

    @Test
    void refusesToGoBack() {
        assertThatThrownBy(() -> new FakeClock().advance(Duration.ofSeconds(-1)))
                .hasMessage("a fake clock only moves forward, advance was PT-1S");
    }

    @Test
    void systemClockIsMonotonicAndNearWallTime() {
        long a = SystemClock.INSTANCE.nanoTime();
        long b = SystemClock.INSTANCE.nanoTime();
        assertThat(b).isGreaterThanOrEqualTo(a);
        assertThat(Duration.between(SystemClock.INSTANCE.now(), Instant.now()).abs()).isLessThan(Duration.ofSeconds(5));
    }
}
