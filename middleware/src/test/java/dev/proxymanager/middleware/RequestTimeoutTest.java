package dev.proxymanager.middleware;

import dev.proxymanager.middleware.health.OutcomeKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Timeouts and their outcomes, against a slow loopback API. */
class RequestTimeoutTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;

    @Test
    void aResponseTimeoutIsRetriedOnAnotherKeyThenReported() throws IOException {
        // given an API slower than the per-call timeout, and two keys
        upstream = UpstreamServer.withKeys(Map.of("slow-key-value-1", 100, "slow-key-value-2", 100));
        upstream.latency(Duration.ofSeconds(2));
        EndpointConfig e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(100, Duration.ofHours(1)))
                .withRetry(new dev.proxymanager.middleware.config.RetryPolicy(1, Duration.ofMillis(10),
                        Duration.ofMillis(10), false))
                .withSecret("k1", "slow-key-value-1").withSecret("k2", "slow-key-value-2").build();
        InMemoryRequestLog log = new InMemoryRequestLog();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .requestLog(log).build();
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when / then
            assertThatThrownBy(() -> req.send("GET", upstream.url("/slow"), null, null, null,
                    SendOptions.defaults().withTimeout(Duration.ofMillis(150))))
                    .isInstanceOf(SocketTimeoutException.class);
        }
        assertThat(log.entries()).extracting(en -> en.outcome()).containsExactly(OutcomeKind.TIMEOUT, OutcomeKind.TIMEOUT);
        assertThat(log.entries()).extracting(en -> en.secretId()).containsExactlyInAnyOrder("k1", "k2");
    }
}
