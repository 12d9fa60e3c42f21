package dev.proxymanager.middleware.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.config.RetryPolicy;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff backoff = new Backoff(
            new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(1), false), new SplittableRandom(7));

    @Test
    void eachRetryWaitsBetweenHalfAndAllOfTheDoubledBase() {
        // when / then
        for (int i = 0; i < 200; i++) {
            assertThat(backoff.delay(1)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
            assertThat(backoff.delay(2)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
            assertThat(backoff.delay(3)).isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
        }
    }

    @Test
    void theWaitIsCappedAtTheMaximumEvenForManyRetries() {
        // when / then
        assertThat(backoff.delay(60)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
    }

    @Test
    void jitterSpreadsTheWaits() {
        // when
        long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> backoff.delay(3)).distinct().count();

        // then
        assertThat(distinct).isGreaterThan(10);
    }

    @Test
    void retryNumbersStartAtOne() {
        assertThatThrownBy(() -> backoff.delay(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was 0");
    }

    @Test
    void withoutJitterEachAttemptWaitsExactlyTheDoubledBaseSaturatingAtTheCap() {
        Backoff exact = Backoff.exponential(Duration.ofMillis(100), Duration.ofDays(365));

        assertThat(exact.delay(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(exact.delay(4)).isEqualTo(Duration.ofMillis(800));
        assertThat(exact.delay(Integer.MAX_VALUE)).isEqualTo(Duration.ofDays(365));
    }

    @Test
    void aCapBelowTheBaseIsRefused() {
        assertThatThrownBy(() -> Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base=PT2S, max=PT1S");
    }
}
