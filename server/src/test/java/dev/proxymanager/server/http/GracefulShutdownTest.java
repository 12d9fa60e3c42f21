package dev.proxymanager.server.http;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class GracefulShutdownTest {

    @Test
    void stopFinishesEveryAcceptedRequestAndRefusesNewOnes() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            ServerHarness harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                    "[{\"requests\":100,\"per\":\"60s\"}]", "", "sk-shutdown-key-1234") + "}}", 10, 10, 3, false);
            // given five requests in flight, held at the upstream
            upstream.hold = new CountDownLatch(1);
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                inFlight.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return harness.get("/proxy/api/work");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> upstream.held.get() == 5);

            // when shutdown starts (as on SIGTERM) and the upstream then answers
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(harness::close);
            await().atMost(Duration.ofSeconds(5)).until(harness.server::isDraining);
            upstream.hold.countDown();

            // then every accepted request completes with the upstream's answer
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                assertThat(f.get().statusCode()).isEqualTo(200);
                assertThat(f.get().body()).isEqualTo("upstream 200 /proxy/api/work".replace("/proxy/api", ""));
            }
            stopping.get();
            // and the server no longer accepts connections
            assertThat(CompletableFuture.supplyAsync(() -> {
                try {
                    return harness.get("/health").statusCode();
                } catch (Exception e) {
                    return -1;
                }
            }).get()).isEqualTo(-1);
        }
    }
}
