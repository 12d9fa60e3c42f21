package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.rotation.SecretStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Pooled kept-alive connections to an upstream proxy that the proxy closed unseen: a request that meets one is sent
 * again on a fresh connection to the same proxy, which is neither penalised nor charged an attempt. Real sockets: a
 * loopback upstream that drops connections without {@code Connection: close}, the proxy port, a JDK client.
 */
class StaleUpstreamConnectionTest {

    PortOverMisbehavingUpstreams port;
    MisbehavingUpstreamProxy upstream;
    ForwardProxyServer server;
    InMemoryRequestLog requestLog;

    @AfterEach
    void stop() throws Exception {
        if (port != null) {
            port.close();
        }
    }

    /** A proxy port whose endpoint "pool" has the one upstream, no retries on another proxy. */
    void start(MisbehavingUpstreamProxy.Misbehaviour drop) throws Exception {
        port = new PortOverMisbehavingUpstreams(Duration.ofSeconds(5), 0, drop);
        upstream = port.upstreams.getFirst();
        server = port.server;
        requestLog = port.requestLog;
    }

    HttpResponse<String> send(String method, String body) throws Exception {
        return port.send(method, body);
    }

    SecretStats stats() {
        return port.stats(0);
    }

    @Test
    void requestsThroughAnUpstreamThatClosesAfterEachAnswerAllSucceedWithoutHealthPenalty() throws Exception {
        // given an upstream that closes each connection right after answering, as tinyproxy does
        start(MisbehavingUpstreamProxy.Misbehaviour.CLOSE_AFTER_ANSWER);

        // when requests follow one another faster than pooled connections are checked
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = send("GET", null);

            // then each succeeds on its first attempt
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("answered by the misbehaving upstream\n");
            assertThat(r.headers().firstValue("X-Proxy-Manager-Attempts")).hasValue("1");
        }

        // and the dropped connections were retried fresh, not held against the proxy
        assertThat(server.metrics().staleConnectionRetries()).isPositive();
        assertThat(stats().failures()).isZero();
        assertThat(stats().consecutiveFailures()).isZero();
        assertThat(stats().successes()).isEqualTo(10);
        await().atMost(Duration.ofSeconds(5)).until(() -> requestLog.entries().size() >= 10);
        assertThat(requestLog.entries()).hasSize(10)
                .allSatisfy(e -> assertThat(e.outcome()).isEqualTo(OutcomeKind.SUCCESS))
                .allSatisfy(e -> assertThat(e.attempt()).isEqualTo(1));
    }

    @Test
    void aRequestMeetingAConnectionClosedAsItArrivesIsSentAgainOnAFreshOne() throws Exception {
        // given an upstream that closes a kept-alive connection when the next request arrives, unanswered (its idle
        // timeout firing as the request is on its way: no check before reuse can see that coming)
        start(MisbehavingUpstreamProxy.Misbehaviour.CLOSE_ON_NEXT_REQUEST);

        // when GETs and POSTs with a body follow one another
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = send(i % 2 == 0 ? "GET" : "POST", i % 2 == 0 ? null : "{\"n\":" + i + "}");

            // then each is answered; a POST too, as the clean close shows the upstream never took it
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Proxy-Manager-Attempts")).hasValue("1");
        }
        assertThat(upstream.dropped.get()).isPositive();
        assertThat(server.metrics().staleConnectionRetries()).isEqualTo(upstream.dropped.get());
        assertThat(stats().failures()).isZero();
        assertThat(stats().successes()).isEqualTo(6);
    }

    @Test
    void aPostWhoseBodyWentOutOnAConnectionThenResetIsNotSentAgain() throws Exception {
        // given an upstream that resets a kept-alive connection once it has read the next request whole
        start(MisbehavingUpstreamProxy.Misbehaviour.RESET_ON_NEXT_REQUEST);
        assertThat(send("GET", null).statusCode()).isEqualTo(200);

        // when a POST with a body goes out on that pooled connection
        HttpResponse<String> r = send("POST", "{\"pay\":1}");

        // then it is not sent twice: the upstream may have acted on it; the failure counts as the proxy's
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.headers().firstValue(ProxyRefusal.ERROR_HEADER)).hasValue("upstream_failed");
        assertThat(upstream.answered.get()).isEqualTo(1);
        assertThat(server.metrics().staleConnectionRetries()).isZero();
        assertThat(stats().failures()).isEqualTo(1);
    }

    @Test
    void aGetOnAConnectionThenResetIsSentAgain() throws Exception {
        // given an upstream that resets a kept-alive connection once it has read the next request
        start(MisbehavingUpstreamProxy.Misbehaviour.RESET_ON_NEXT_REQUEST);
        assertThat(send("GET", null).statusCode()).isEqualTo(200);

        // when another GET goes out on that pooled connection
        HttpResponse<String> r = send("GET", null);

        // then it is answered on a fresh connection: a GET means the same sent twice
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(server.metrics().staleConnectionRetries()).isEqualTo(1);
        assertThat(stats().failures()).isZero();
    }
}
