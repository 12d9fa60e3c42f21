package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

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

    final List<MisbehavingUpstreamProxy> upstreams = new ArrayList<>();
    ProxyManager manager;
    ForwardProxyServer server;
    InMemoryRequestLog requestLog;
    HttpClient client;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
        for (MisbehavingUpstreamProxy u : upstreams) {
            u.close();
        }
    }

    /** A proxy port whose endpoint "pool" rotates over the given upstreams in order, reading with a 300 ms timeout. */
    void start(int maxRetries, MisbehavingUpstreamProxy.Misbehaviour... behaviours) throws Exception {
        for (MisbehavingUpstreamProxy.Misbehaviour b : behaviours) {
            upstreams.add(new MisbehavingUpstreamProxy(b));
        }
        String secrets = upstreams.stream().map(u -> "{\"id\":\"up-" + upstreams.indexOf(u) + "\",\"value\":\""
                + u.url() + "\"}").collect(Collectors.joining(","));
        String json = "{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":\"round-robin\","
                + "\"allowed_targets\":[\"127.0.0.1\"],\"retry\":{\"max_retries\":" + maxRetries + "},"
                + "\"timeouts\":{\"connect\":\"2s\",\"read\":\"" + READ_TIMEOUT.toMillis() + "ms\"},"
                + "\"secrets\":[" + secrets + "]}}}";
        requestLog = new InMemoryRequestLog();
        manager = ProxyManager.builder().secrets(SecretsConfig.parse(json, Map.of()))
                .usageStore(new InMemoryUsageStore()).requestLog(requestLog).maxWait(Duration.ZERO).build();
        List<CidrBlock> loopback = List.of(CidrBlock.parse("127.0.0.0/8"));
        server = new ForwardProxyServer("127.0.0.1", new ForwardProxySettings(0, null, loopback, "pool",
                Duration.ofMinutes(10)), manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                Duration.ofSeconds(30), 1024 * 1024, 8).start();
        client = HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", server.port())))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    HttpResponse<String> get() throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:9/item"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    SecretStats stats(int upstream) {
        return manager.engine().stats("pool").stream().filter(s -> s.secretId().equals("up-" + upstream))
                .findFirst().orElseThrow();
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
        assertThat(stats(0).failures()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !requestLog.entries().isEmpty());
        assertThat(requestLog.entries().getFirst().outcome()).isEqualTo(OutcomeKind.TIMEOUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> upstreams.getFirst().closedByClient.get() == 1);
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
        assertThat(stats(0).failures()).isEqualTo(1);
        assertThat(stats(1).successes()).isEqualTo(1);
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
        await().atMost(Duration.ofSeconds(5)).until(() -> upstreams.getFirst().closedByClient.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !requestLog.entries().isEmpty());
        assertThat(requestLog.entries().getFirst().errorType()).isEqualTo("upstream_timeout");
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
        await().atMost(Duration.ofSeconds(5)).until(() -> upstreams.getFirst().closedByClient.get() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !requestLog.entries().isEmpty());
        assertThat(requestLog.entries().getFirst().errorType()).isEqualTo("upstream_timeout");
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
        assertThat(stats(0).failures()).isZero();
    }
}
