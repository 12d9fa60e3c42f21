package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** {@link Request#sendAll} and {@link Request#sendAsync} against the loopback API. */
class RequestBatchTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;

    private void start(int keys, LeaseMode lease) throws IOException {
        Map<String, Integer> limits = new LinkedHashMap<>();
        for (int i = 1; i <= keys; i++) {
            limits.put("batch-key-" + i, 10_000);
        }
        upstream = UpstreamServer.withKeys(limits);
        upstream.latency(Duration.ofMillis(5));
        EndpointConfig.Builder b = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(10_000, Duration.ofHours(1))).withLease(lease);
        for (int i = 1; i <= keys; i++) {
            b.withSecret("k" + i, "batch-key-" + i);
        }
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock).sleeper(clock::advance)
                .maxWait(Duration.ofMinutes(1)).build();
    }

    @Test
    void aThousandCallsWithConcurrencyFiftyCompleteInInputOrderWithProgress() throws IOException {
        // given
        start(5, LeaseMode.NONE);
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            calls.add(new Call("GET", upstream.url("/items"), (Map<String, String>) null, Map.of("i", Integer.toString(i)), null, null));
        }
        ConcurrentLinkedQueue<Integer> progress = new ConcurrentLinkedQueue<>();
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            List<CallResult> results = req.sendAll(calls, 50, (done, total) -> {
                assertThat(total).isEqualTo(1000);
                progress.add(done);
            });

            // then
            assertThat(results).hasSize(1000);
            for (int i = 0; i < 1000; i++) {
                CallResult r = results.get(i);
                assertThat(r.isSuccess()).isTrue();
                assertThat(r.index()).isEqualTo(i);
                assertThat(r.response().bodyAsString()).contains("\"query\":\"i=" + i + "\"");
            }
            assertThat(progress).hasSize(1000).contains(1000).doesNotHaveDuplicates();
            assertThat(upstream.maxInFlight()).isLessThanOrEqualTo(50).isGreaterThan(1);
            assertThat(upstream.tooMany()).isZero();
        }
    }

    @Test
    void eachFailedCallCarriesItsErrorInItsPlace() throws IOException {
        // given a batch whose middle call cannot be sent
        start(2, LeaseMode.NONE);
        List<Call> calls = List.of(Call.get(upstream.url("/a")), Call.get("http://localhost:1/elsewhere"),
                Call.get(upstream.url("/c")));
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            List<CallResult> results = req.sendAll(calls, 3, null);

            // then
            assertThat(results.get(0).response().status()).isEqualTo(200);
            assertThat(results.get(1).error()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not an allowed host");
            assertThat(results.get(2).response().status()).isEqualTo(200);
        }
    }

    @Test
    void exclusiveLeasesCapConcurrencyAtTheNumberOfSecrets() throws IOException {
        // given three keys leased exclusively
        start(3, LeaseMode.EXCLUSIVE);
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            calls.add(Call.get(upstream.url("/items")));
        }
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when ten in flight are asked for
            List<CallResult> results = req.sendAll(calls, 10, null);

            // then at most three ran at once, and none waited for a secret in vain
            assertThat(req.effectiveConcurrency(10)).isEqualTo(3);
            assertThat(results).allSatisfy(r -> assertThat(r.isSuccess()).isTrue());
            assertThat(upstream.maxInFlight()).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void sendAsyncCompletesWithTheResponse() throws Exception {
        // given
        start(2, LeaseMode.NONE);
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            CompletableFuture<Response> f = req.sendAsync("POST", upstream.url("/items"), null, null,
                    Map.of("name", "a b"), null);

            // then
            Response r = f.get();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).contains("\"method\":\"POST\"").contains("name=a+b");
        }
    }

    @Test
    void sendAsyncFailsWithTheTransportError() throws IOException {
        // given an upstream that is gone
        start(1, LeaseMode.NONE);
        String url = upstream.url("/items");
        upstream.close();
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            CompletableFuture<Response> f = req.sendAsync(Call.get(url));

            // then
            assertThat(f).failsWithin(Duration.ofSeconds(30)).withThrowableThat()
                    .isInstanceOf(ExecutionException.class).havingCause().isInstanceOf(IOException.class);
        }
        upstream = null;
    }
}
