package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.health.OutcomeKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The endpoint's read timeout on the proxy port's plain path: the longest wait for the upstream's next bytes, for the
 * response head and for each part of the body. Real sockets: loopback upstream proxies that go silent, the proxy
 * port, a JDK client.
 */
class UpstreamReadTimeoutTest {

    static final Duration READ_TIMEOUT = Duration.ofMillis(300);

    PortOverMisbehavingUpstreams port;

    @AfterEach
    void stop() throws Exception {
        if (port != null) {
            port.close();
        }
    }

    /** The port rotating over upstreams that behave so, reading with a 300 ms timeout. */
    void start(int maxRetries, MisbehavingUpstreamProxy.Misbehaviour... behaviours) throws Exception {
        port = new PortOverMisbehavingUpstreams(READ_TIMEOUT, maxRetries, behaviours);
    }

    HttpResponse<String> get() throws IOException, InterruptedException {
        return port.send("GET", null);
    }

    @Test
    void anUpstreamThatNeverAnswersIsA504OnceTheReadTimeoutPasses() throws Exception {
        // given an upstream proxy that reads requests and never answers
        start(0, MisbehavingUpstreamProxy.Misbehaviour.NEVER_ANSWER);

        // when a request goes through it
        long started = System.nanoTime();
        HttpResponse<String> r = get();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        // then the port answers itself, a timeout, once the read timeout has passed and not long after
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue(ProxyRefusal.ERROR_HEADER)).hasValue("upstream_timeout");
        assertThat(took).isGreaterThanOrEqualTo(READ_TIMEOUT).isLessThan(Duration.ofSeconds(5));
        // counted against the proxy as a timeout, its connection closed rather than kept for another request
        assertThat(port.stats(0).failures()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !port.requestLog.entries().isEmpty());
        assertThat(port.requestLog.entries().getFirst().outcome()).isEqualTo(OutcomeKind.TIMEOUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> port.upstreams.getFirst().closedByClient.get() == 1);
    }

    @Test
    void aGetThatTimedOutIsRetriedOnAnotherProxy() throws Exception {
        // given a silent upstream first in the rotation and a working one second
        start(1, MisbehavingUpstreamProxy.Misbehaviour.NEVER_ANSWER,
                MisbehavingUpstreamProxy.Misbehaviour.CLOSE_AFTER_ANSWER);

        // when a GET goes out
        HttpResponse<String> r = get();

        // then its second attempt, on the other proxy, answers it
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(MisbehavingUpstreamProxy.BODY);
        assertThat(r.headers().firstValue("X-Proxy-Manager-Attempts")).hasValue("2");
        assertThat(port.stats(0).failures()).isEqualTo(1);
        assertThat(port.stats(1).successes()).isEqualTo(1);
    }

    @Test
    void aSmallBodyThatStallsIsA504OnceTheReadTimeoutPasses() throws Exception {
        // given an upstream that sends the head and part of a small body, then goes silent
        start(0, MisbehavingUpstreamProxy.Misbehaviour.STALL_MID_BODY);

        // when a request goes through it
        HttpResponse<String> r = get();

        // then nothing of it had been relayed (small bodies go out whole), so the port answers itself
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue(ProxyRefusal.ERROR_HEADER)).hasValue("upstream_timeout");
        assertThat(r.body()).doesNotContain("answered");
        // and the stalled upstream connection is closed, not pooled; the request log says why the body stopped
        await().atMost(Duration.ofSeconds(5)).until(() -> port.upstreams.getFirst().closedByClient.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !port.requestLog.entries().isEmpty());
        assertThat(port.requestLog.entries().getFirst().errorType()).isEqualTo("upstream_timeout");
    }

    @Test
    void aLargeBodyThatStallsIsCutOnceTheReadTimeoutPasses() throws Exception {
        // given an upstream that sends the head and 40 000 of 100 000 bytes, then goes silent
        start(0, MisbehavingUpstreamProxy.Misbehaviour.STALL_MID_LARGE_BODY);

        // when a request goes through it, the client gets the head and part of the body, then a cut connection
        long started = System.nanoTime();
        assertThatThrownBy(this::get).isInstanceOf(IOException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));

        // and the stalled upstream connection is closed, not pooled
        await().atMost(Duration.ofSeconds(5)).until(() -> port.upstreams.getFirst().closedByClient.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !port.requestLog.entries().isEmpty());
        assertThat(port.requestLog.entries().getFirst().errorType()).isEqualTo("upstream_timeout");
    }

    @Test
    void aBodyThatKeepsComingIsNotCutHoweverLongItTakes() throws Exception {
        // given an upstream that sends its body a byte every 25 ms: near a second in all, three times the timeout
        start(0, MisbehavingUpstreamProxy.Misbehaviour.TRICKLE_BODY);
        long started = System.nanoTime();

        // when a request goes through it
        HttpResponse<String> r = get();

        // then the whole body arrives: the timeout bounds each wait for bytes, not the whole answer
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(READ_TIMEOUT);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(MisbehavingUpstreamProxy.BODY);
        assertThat(port.stats(0).failures()).isZero();
    }
}
