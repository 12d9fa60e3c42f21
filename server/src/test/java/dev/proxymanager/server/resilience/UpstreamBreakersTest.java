package dev.proxymanager.server.resilience;

import dev.proxymanager.middleware.clock.FakeClock;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class UpstreamBreakersTest {

    private final FakeClock clock = new FakeClock();
    private final UpstreamBreakers breakers = new UpstreamBreakers(3, Duration.ofSeconds(30), clock);

    private static void fail(CircuitBreaker b) {
        assertThat(b.tryAcquirePermission()).isTrue();
        b.onError(1, TimeUnit.MILLISECONDS, new IOException("boom"));
    }

    @Test
    void aSuccessBetweenFailuresKeepsTheBreakerClosed() {
        CircuitBreaker b = breakers.forEndpoint("api");
        fail(b);
        fail(b);
        b.tryAcquirePermission();
        b.onSuccess(1, TimeUnit.MILLISECONDS);
        fail(b);
        fail(b);

        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void opensAfterThresholdConsecutiveFailuresHalfOpensAfterTheWaitAndClosesOnSuccess() {
        CircuitBreaker b = breakers.forEndpoint("api");
        fail(b);
        fail(b);
        fail(b);
        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(b.tryAcquirePermission()).isFalse();

        clock.advance(Duration.ofSeconds(29));
        assertThat(b.tryAcquirePermission()).isFalse();
        clock.advance(Duration.ofSeconds(2));
        assertThat(b.tryAcquirePermission()).isTrue();
        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);

        b.onSuccess(1, TimeUnit.MILLISECONDS);
        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breakers.states()).containsEntry("api", "closed");
    }

    @Test
    void aFailedTrialReopens() {
        CircuitBreaker b = breakers.forEndpoint("api");
        fail(b);
        fail(b);
        fail(b);
        clock.advance(Duration.ofSeconds(31));
        fail(b);

        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.OPEN);
    }
}
