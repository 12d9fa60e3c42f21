package dev.proxymanager.server.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ForwardingRoutesTest {

    private static final String KEY_A = "sk-live-aaaaaaaa-1111";
    private static final String KEY_B = "sk-live-bbbbbbbb-2222";

    private TestUpstream upstream;
    private ServerHarness harness;

    private void start(String limits, String extra, int maxConcurrent, int maxQueue, String... keys) throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(), limits, extra, keys)
                + "}}", maxConcurrent, maxQueue, 3, false);
    }

    @AfterEach
    void stop() throws Exception {
        if (harness != null) {
            harness.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void proxiesToBaseUrlWithInjectedKeyAndShowsOnlyTheSecretId() throws Exception {
        // given an endpoint with one key
        start("[{\"requests\":10,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        // when a client calls through /proxy with its own hop-by-hop header and query
        HttpResponse<String> r = harness.get("/proxy/api/items/7?q=x", "X-Client", "yes");

        // then the upstream got the path, query and key; the client sees the id, never the key
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("upstream 200 /items/7?q=x");
        assertThat(upstream.lastHeaders).containsEntry("authorization", "Bearer " + KEY_A).containsEntry("x-client", "yes");
        assertThat(r.headers().firstValue("X-Proxy-Manager-Secret")).hasValue("key-1");
        assertThat(r.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(r.headers().map().toString()).doesNotContain(KEY_A);
    }

    @Test
    void rotatesToTheOtherKeyAndAnswers429WithRetryAfterWhenAllKeysAreAtTheirLimit() throws Exception {
        // given two keys of one request per minute each
        start("[{\"requests\":1,\"per\":\"60s\"}]", "", 10, 10, KEY_A, KEY_B);

        // when three requests arrive within the minute
        HttpResponse<String> first = harness.get("/proxy/api/a");
        HttpResponse<String> second = harness.get("/proxy/api/b");
        HttpResponse<String> third = harness.get("/proxy/api/c");

        // then each key serves once, and the third is told when to come back
        assertThat(first.headers().firstValue("X-Proxy-Manager-Secret").orElseThrow())
                .isNotEqualTo(second.headers().firstValue("X-Proxy-Manager-Secret").orElseThrow());
        assertThat(third.statusCode()).isEqualTo(429);
        // at most the window plus the default 100 ms guard band, rounded up to whole seconds
        assertThat(Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 61L);
        assertThat(third.body()).contains("rate limit").doesNotContain(KEY_A).doesNotContain(KEY_B);
        assertThat(upstream.calls.get()).isEqualTo(2);

        // and once the window has passed, a key is free again
        harness.clock.advance(Duration.ofSeconds(61));
        assertThat(harness.get("/proxy/api/d").statusCode()).isEqualTo(200);
    }

    @Test
    void rejectsAtOnceWith503WhenTheSlotIsTakenAndTheQueueIsFull() throws Exception {
        // given one slot, no queue, and a request holding the slot at the upstream
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 1, 0, KEY_A);
        upstream.hold = new CountDownLatch(1);
        CompletableFuture<HttpResponse<String>> holding = CompletableFuture.supplyAsync(() -> {
            try {
                return harness.get("/proxy/api/slow");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.held.get() == 1);

        // when another request arrives
        HttpResponse<String> rejected = harness.get("/proxy/api/fast");

        // then it is refused with 503 and Retry-After, and the held one still completes
        assertThat(rejected.statusCode()).isEqualTo(503);
        assertThat(rejected.headers().firstValue("Retry-After")).hasValue("1");
        upstream.hold.countDown();
        assertThat(holding.get().statusCode()).isEqualTo(200);
        assertThat(harness.get("/metrics").body()).contains("proxy_rejections_total{reason=\"queue_full\"}");
    }

    @Test
    void breakerOpensAfterConsecutiveFailuresThenHalfOpensAndCloses() throws Exception {
        // given an upstream answering 500 and a threshold of 3
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        upstream.failWith = 500;

        // when three requests fail
        for (int i = 0; i < 3; i++) {
            assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(500);
        }

        // then the breaker is open: the next request fails fast without reaching the upstream
        HttpResponse<String> fastFail = harness.get("/proxy/api/x");
        assertThat(fastFail.statusCode()).isEqualTo(503);
        assertThat(fastFail.body()).contains("circuit_open");
        assertThat(upstream.calls.get()).isEqualTo(3);
        assertThat(harness.get("/proxy-health").body()).contains("\"api\" : \"open\"");

        // when the open period passes and the upstream recovered
        upstream.failWith = 0;
        harness.clock.advance(Duration.ofSeconds(31));

        // then one trial call goes through (half-open) and closes the breaker
        assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(200);
        assertThat(harness.get("/proxy-health").body()).contains("\"api\" : \"closed\"");
        assertThat(harness.get("/proxy/api/y").statusCode()).isEqualTo(200);
    }

    @Test
    void anUpstream429IsRateLimitedForMetricsHealthAndBreakerAlike() throws Exception {
        // given one key, 429 outside ban_statuses, a breaker threshold of 3, and an upstream throttling (429)
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        upstream.failWith = 429;

        // when four requests reach the upstream, each after the key's cooldown
        for (int i = 0; i < 4; i++) {
            assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(429);
            // then health cooled the key down (backoff_base 2 s): the next request gets no secret yet
            HttpResponse<String> cooling = harness.get("/proxy/api/x");
            assertThat(cooling.body()).contains("no_secret_available");
            harness.clock.advance(Duration.ofSeconds(3));
        }

        // then the breaker did not count a throttle as the upstream being down, and metrics call it rate_limited
        assertThat(upstream.calls.get()).isEqualTo(4);
        assertThat(harness.get("/proxy-health").body()).contains("\"api\" : \"closed\"");
        assertThat(harness.get("/metrics").body())
                .contains("proxy_requests_seconds_count{endpoint=\"api\",outcome=\"rate_limited\",status=\"429\"} 4");
    }

    @Test
    void readTimeoutAnswers504() throws Exception {
        // given an endpoint with a 300 ms read timeout and an upstream that holds the request
        start("[{\"requests\":100,\"per\":\"60s\"}]", ",\"timeouts\":{\"connect\":\"1s\",\"read\":\"300ms\"}", 10, 10, KEY_A);
        upstream.hold = new CountDownLatch(1);

        // when a request is forwarded
        HttpResponse<String> r = harness.get("/proxy/api/slow");

        // then the server gives up with 504
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).contains("upstream timed out");
        upstream.hold.countDown();
    }

    @Test
    void connectionRefusedAnswers502() throws Exception {
        // given an endpoint whose upstream is gone
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        upstream.close();

        // when a request is forwarded / then the server answers 502 naming the endpoint
        HttpResponse<String> r = harness.get("/proxy/api/x");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.body()).contains("endpoint api").doesNotContain(KEY_A);
    }

    @Test
    void sendRefusesHostsTheEndpointDoesNotAllowAndMetadataAddresses() throws Exception {
        // given an endpoint on loopback that also lists the metadata address
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":100,\"per\":\"60s\"}]", ",\"allowed_hosts\":[\"127.0.0.1\",\"169.254.169.254\"]", KEY_A)
                + "}}", 10, 10, 3, false);

        // when /api/v1/send names another host, or the metadata address
        HttpResponse<String> other = harness.send("POST", "/api/v1/send",
                "{\"endpoint\":\"api\",\"method\":\"GET\",\"url\":\"http://example.org/x\"}");
        HttpResponse<String> metadata = harness.send("POST", "/api/v1/send",
                "{\"endpoint\":\"api\",\"method\":\"GET\",\"url\":\"http://169.254.169.254/latest/meta-data/\"}");

        // then both are refused with 403 and nothing reaches any upstream
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(other.body()).contains("example.org:80 is not allowed");
        assertThat(metadata.statusCode()).isEqualTo(403);
        assertThat(metadata.body()).contains("link-local");
        assertThat(upstream.calls.get()).isZero();
    }

    @Test
    void sendForwardsMethodParamsHeadersAndDataLikeTheFlaskEndpoint() throws Exception {
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        HttpResponse<String> r = harness.send("POST", "/api/v1/send", "{\"endpoint\":\"api\",\"method\":\"POST\","
                + "\"url\":\"/search\",\"params\":{\"q\":\"a b\"},\"headers\":{\"X-Trace\":\"t1\"},\"data\":{\"k\":1}}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(upstream.lastUri).isEqualTo("/search?q=a+b");
        assertThat(upstream.lastHeaders).containsEntry("x-trace", "t1").containsEntry("content-type", "application/json")
                .containsEntry("authorization", "Bearer " + KEY_A);
    }

    @Test
    void refusesHeaderValuesWithLineBreaksAndBodiesOverTheLimit() throws Exception {
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        HttpResponse<String> crlf = harness.send("POST", "/api/v1/send", "{\"endpoint\":\"api\",\"url\":\"/x\","
                + "\"headers\":{\"X-Evil\":\"a\\r\\nSet-Cookie: x=1\"}}");
        HttpResponse<String> big = harness.send("POST", "/proxy/api/upload", "x".repeat(2048));

        assertThat(crlf.statusCode()).isEqualTo(400);
        assertThat(crlf.body()).contains("CR or LF");
        assertThat(big.statusCode()).isEqualTo(413);
        assertThat(upstream.calls.get()).isZero();
    }

    @Test
    void unknownEndpointIs404ListingTheKnownOnes() throws Exception {
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        HttpResponse<String> r = harness.get("/proxy/nope/x");

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("known endpoints: [api]");
    }

    @Test
    void healthReadyAndMetricsAnswer() throws Exception {
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        harness.get("/proxy/api/x");

        assertThat(harness.get("/health").statusCode()).isEqualTo(200);
        assertThat(harness.get("/ready").statusCode()).isEqualTo(200);
        String metrics = harness.get("/metrics").body();
        assertThat(metrics).contains("proxy_requests_seconds_bucket").contains("proxy_secret_uses_total{endpoint=\"api\",secret=\"key-1\"}")
                .contains("proxy_cache_total").doesNotContain(KEY_A);
        String summary = harness.get("/proxy-metrics").body();
        assertThat(summary).contains("\"success_rate\"").contains("\"p99\"").contains("\"max_concurrent_requests\" : 10");
    }

    @Test
    void relaysAnUpstreamBodyLargerThanOneWriteWhole() throws Exception {
        // given an upstream answering 200 000 bytes and more
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        upstream.padding = 200_000;

        // when a client fetches it through the server
        HttpResponse<String> r = harness.get("/proxy/api/big");

        // then every byte arrives, with its length declared
        String expected = "upstream 200 /big" + "x".repeat(200_000);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(expected);
        assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(expected.length());
    }

    @Test
    void forwardsAChunkedRequestBodyAndAnEmptyOne() throws Exception {
        // given
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        // when a client posts a body of unknown length (sent chunked), then one without a body
        HttpResponse<String> chunked = harness.client.send(HttpRequest.newBuilder(harness.uri("/proxy/api/upload"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream("chunked body".getBytes(StandardCharsets.UTF_8))))
                .build(), HttpResponse.BodyHandlers.ofString());
        String chunkedBody = upstream.lastBody;
        HttpResponse<String> empty = harness.get("/proxy/api/items");

        // then the upstream got the first body whole and no body for the second
        assertThat(chunked.statusCode()).isEqualTo(200);
        assertThat(chunkedBody).isEqualTo("chunked body");
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(upstream.lastBody).isEmpty();
    }

    @Test
    void repeatedRequestsAddUpOnTheSameMeters() throws Exception {
        // given
        start("[{\"requests\":100,\"per\":\"60s\"}]", "", 10, 10, KEY_A);

        // when three requests go through
        for (int i = 0; i < 3; i++) {
            assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(200);
        }

        // then each meter counts all three
        String metrics = harness.get("/metrics").body();
        assertThat(metrics).contains("proxy_secret_uses_total{endpoint=\"api\",secret=\"key-1\"} 3.0")
                .contains("proxy_cache_total{endpoint=\"api\",result=\"miss\"} 3.0")
                .contains("proxy_requests_seconds_count{endpoint=\"api\",outcome=\"success\",status=\"200\"} 3");
    }

    @Test
    void requestDurationIsMeasuredOnTheInjectedClock() throws Exception {
        // given an upstream that takes 250 ms of the server's (fake) clock to answer
        start("[{\"requests\":10,\"per\":\"60s\"}]", "", 10, 10, KEY_A);
        upstream.onRequest = () -> harness.clock.advance(Duration.ofMillis(250));

        // when a request goes through /proxy
        assertThat(harness.get("/proxy/api/slow").statusCode()).isEqualTo(200);

        // then (once recorded, just after the answer is written) the duration is those 250 ms, not real time
        await().atMost(Duration.ofSeconds(5)).until(() -> harness.metrics.summary().get("total_requests").equals(1L));
        @SuppressWarnings("unchecked")
        java.util.Map<String, Double> latency = (java.util.Map<String, Double>) harness.metrics.summary().get("latency_ms");
        assertThat(latency.get("max")).isEqualTo(250.0);
    }
}
