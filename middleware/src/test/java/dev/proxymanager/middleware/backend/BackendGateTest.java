package dev.proxymanager.middleware.backend;

import dev.proxymanager.middleware.transport.Backoff;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class BackendGateTest {

    private static final long SECOND = 1_000_000_000L;
    private final BackendGate gate = new BackendGate(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(4)));

    @Test
    void anUpBackendTakesEveryCall() {
        assertThat(gate.allowsCall(0)).isTrue();
        assertThat(gate.allowsCall(0)).isTrue();
        assertThat(gate.down()).isFalse();
        assertThat(gate.skips(0)).isFalse();
    }

    @Test
    void aFailureSkipsCallsUntilTheProbeTimeThenLetsExactlyOneCallerProbe() {
        // given a failure at t=10 s
        assertThat(gate.recordFailure(10 * SECOND)).as("an outage began").isTrue();

        // then calls skip it until t=11 s
        assertThat(gate.allowsCall(10 * SECOND + SECOND - 1)).isFalse();
        assertThat(gate.skips(10 * SECOND + SECOND - 1)).isTrue();

        // when the probe time comes, one caller gets through and the others keep skipping
        assertThat(gate.allowsCall(11 * SECOND)).isTrue();
        assertThat(gate.allowsCall(11 * SECOND)).isFalse();
    }

    @Test
    void consecutiveFailuresDoubleTheWaitUpToTheCap() {
        long now = 0;
        long[] waits = new long[4];
        for (int i = 0; i < waits.length; i++) {
            boolean began = gate.recordFailure(now);
            assertThat(began).isEqualTo(i == 0);
            waits[i] = gate.nextProbeAt(now) - now;
        }
        assertThat(waits).containsExactly(SECOND, 2 * SECOND, 4 * SECOND, 4 * SECOND);
    }

    @Test
    void aSuccessEndsTheOutageOnce() {
        gate.recordFailure(0);

        assertThat(gate.recordSuccess()).as("the outage ended").isTrue();
        assertThat(gate.recordSuccess()).isFalse();
        assertThat(gate.allowsCall(0)).isTrue();
        assertThat(gate.recordFailure(0)).as("a new outage, backoff from the start").isTrue();
        assertThat(gate.nextProbeAt(0)).isEqualTo(SECOND);
    }

    @Test
    void probeNowLetsTheNextCallThroughWhileStillPresumedDown() {
        gate.recordFailure(0);

        gate.probeNow();

        assertThat(gate.down()).isTrue();
        assertThat(gate.allowsCall(1)).isTrue();
    }
}
