package dev.proxymanager.middleware;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.BanBodyPattern;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.HealthPolicy;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** How a request's attempts are classified: the log, the retry decision and health agree (one classifier). */
class RequestOutcomeTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;

    @Test
    void a429LeftOutOfBanStatusesIsRateLimitedForTheLogTheRetryAndHealthAlike() throws IOException {
        // given two keys the upstream throttles (429), and ban_statuses without 429
        upstream = UpstreamServer.withKeys(Map.of("throttled-key-1", 0, "throttled-key-2", 0));
        HealthPolicy noBanOn429 = new HealthPolicy(Set.of(401, 403), true, 30, Duration.ofMinutes(5),
                Duration.ofMinutes(10), 100, Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5),
                false);
        EndpointConfig e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(100, Duration.ofHours(1))).withHealth(noBanOn429)
                .withSecret("k1", "throttled-key-1").withSecret("k2", "throttled-key-2").build();
        InMemoryRequestLog log = new InMemoryRequestLog();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .requestLog(log).build();

        // when
        Response r;
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            r = req.send("GET", upstream.url("/a"), null, null);
        }

        // then: retried on the other key, logged as rate_limited; the 429s carry Retry-After, so they mean "limit
        // reached": each key cools for the Retry-After and counts neither a success nor a failure
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(log.entries()).extracting(en -> en.outcome())
                .containsExactly(OutcomeKind.RATE_LIMITED, OutcomeKind.RATE_LIMITED);
        assertThat(pm.stats("api")).extracting(SecretStats::successes).containsOnly(0L);
        assertThat(pm.stats("api")).extracting(SecretStats::failures).containsOnly(0L);
        assertThat(pm.stats("api")).extracting(SecretStats::cause).containsOnly(UnavailableCause.COOLING_DOWN);
    }

    @Test
    void aNotFoundIsLoggedAsAClientErrorAndNotRetried() throws IOException {
        // given an upstream answering 404
        upstream = UpstreamServer.withKeys(Map.of("good-key-1", 100, "good-key-2", 100));
        upstream.failWith(404);
        EndpointConfig e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(100, Duration.ofHours(1)))
                .withSecret("k1", "good-key-1").withSecret("k2", "good-key-2").build();
        InMemoryRequestLog log = new InMemoryRequestLog();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .requestLog(log).build();

        // when
        Response r;
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            r = req.send("GET", upstream.url("/missing"), null, null);
        }

        // then
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(log.entries()).extracting(en -> en.outcome()).containsExactly(OutcomeKind.CLIENT_ERROR);
    }

    @Test
    void aBlockPageServedWith200MatchingBanBodyPatternBansTheSecretAndTheRequestMovesToAnother() throws IOException {
        // given an upstream whose 200 answers name the key, and a ban_body_pattern matching one key's answers
        upstream = UpstreamServer.withKeys(Map.of("blocked-key-1", 100, "good-key-2", 100));
        EndpointConfig e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withRotation(dev.proxymanager.middleware.config.RotationMethod.ROUND_ROBIN)
                .withHealth(HealthPolicy.DEFAULT.withBanBodyPattern(BanBodyPattern.compile("\"key\":\"blocked-key")))
                .withSecret("k1", "blocked-key-1").withSecret("k2", "good-key-2").build();
        InMemoryRequestLog log = new InMemoryRequestLog();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .requestLog(log).build();

        // when three requests are sent
        for (int i = 0; i < 3; i++) {
            try (Request req = pm.request(SecretType.KEY, "api", false)) {
                // then each ends on the good key
                assertThat(req.send("GET", upstream.url("/a"), null, null).secretId()).isEqualTo("k2");
            }
        }
        // and the blocked key answered once, was logged as banned and is not tried again while it cools down
        assertThat(upstream.hits("blocked-key-1")).isEqualTo(1);
        assertThat(log.entries()).filteredOn(en -> en.secretId().equals("k1")).extracting(en -> en.outcome())
                .containsExactly(OutcomeKind.BANNED);
    }
}
