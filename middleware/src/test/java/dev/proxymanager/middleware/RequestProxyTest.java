package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** {@link Request} on an IP-limited endpoint, through a pool of real tinyproxy processes on loopback. */
class RequestProxyTest {

    private static Tinyproxy p1;
    private static Tinyproxy p2;
    private static Tinyproxy p3;
    private static Tinyproxy authenticated;
    private static UpstreamServer upstream;

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private ProxyManager pm;

    @BeforeAll
    static void startProxies() throws IOException {
        upstream = UpstreamServer.open();
        p1 = Tinyproxy.start("proxy-one");
        p2 = Tinyproxy.start("proxy-two");
        p3 = Tinyproxy.start("proxy-three");
        authenticated = Tinyproxy.start("proxy-auth", "scraper", "s3cret-pass");
    }

    @AfterAll
    static void stopProxies() {
        for (Tinyproxy p : new Tinyproxy[] {p1, p2, p3, authenticated}) {
            if (p != null) {
                p.close();
            }
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(EndpointConfig.Builder endpoint) {
        pm = ProxyManager.builder().secrets(TestEndpoints.config(endpoint.build())).clock(clock)
                .sleeper(clock::advance).build();
    }

    private static EndpointConfig.Builder pool() {
        return EndpointConfig.builder("scrape", SecretType.PROXY).withRotation(RotationMethod.ROUND_ROBIN);
    }

    private static String viaOf(Response r) {
        String body = r.bodyAsString();
        int i = body.indexOf("\"via\":\"") + 7;
        return body.substring(i, body.indexOf('"', i));
    }

    @Test
    void aRequestGoesThroughTheProxyGetKeyProxyNamed() throws IOException {
        // given
        start(pool().withSecret("p1", p1.url()).withSecret("p2", p2.url()).withSecret("p3", p3.url()));
        try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
            // when
            String proxy = req.getKeyProxy();
            Response r = req.send("GET", upstream.url("/page"), null, null);

            // then the upstream saw that proxy's Via header
            Tinyproxy chosen = List.of(p1, p2, p3).stream().filter(p -> p.url().equals(proxy)).findFirst().orElseThrow();
            assertThat(r.status()).isEqualTo(200);
            assertThat(viaOf(r)).contains(chosen.name());
            assertThat(r.secretId()).isEqualTo("p" + (List.of(p1, p2, p3).indexOf(chosen) + 1));
        }
    }

    @Test
    void requestsRotateAcrossTheProxyPool() throws IOException {
        // given
        start(pool().withSecret("p1", p1.url()).withSecret("p2", p2.url()).withSecret("p3", p3.url()));
        List<String> vias = new ArrayList<>();

        // when nine sessions send one request each
        for (int i = 0; i < 9; i++) {
            try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
                vias.add(viaOf(req.send("GET", upstream.url("/page"), null, null)));
            }
        }

        // then each proxy carried three
        for (Tinyproxy p : List.of(p1, p2, p3)) {
            assertThat(vias).filteredOn(v -> v.contains(p.name())).hasSize(3);
        }
    }

    @Test
    void aSessionStaysOnItsProxy() throws IOException {
        // given
        start(pool().withSecret("p1", p1.url()).withSecret("p2", p2.url()).withSecret("p3", p3.url()));
        try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
            // when
            List<String> secretIds = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                secretIds.add(req.send("GET", upstream.url("/page"), null, null).secretId());
            }

            // then
            assertThat(secretIds).containsOnly(secretIds.getFirst());
        }
    }

    @Test
    void aDeadProxyIsSkippedAndTheRequestRetriedOnAnother() throws IOException {
        // given a pool whose first proxy has nothing listening
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        start(pool().withSecret("dead", "http://127.0.0.1:" + deadPort).withSecret("p2", p2.url()));
        List<Response> responses = new ArrayList<>();

        // when
        for (int i = 0; i < 4; i++) {
            try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
                responses.add(req.send("GET", upstream.url("/page"), null, null));
            }
        }

        // then all went through the live proxy; only the first tried the dead one (it is cooling down since)
        assertThat(responses).extracting(Response::status).containsOnly(200);
        assertThat(responses).extracting(Response::secretId).containsOnly("p2");
        assertThat(responses.getFirst().attempts()).isEqualTo(2);
        assertThat(responses.subList(1, 4)).extracting(Response::attempts).containsOnly(1);
        assertThat(responses).allSatisfy(r -> assertThat(viaOf(r)).contains(p2.name()));
    }

    @Test
    void anAuthenticatedProxyWorksWithTheCredentialsInItsUrl() throws IOException {
        // given
        start(pool().withSecret("auth", authenticated.urlWithCredentials()));
        try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
            // when
            Response r = req.send("GET", upstream.url("/page"), null, null);

            // then
            assertThat(r.status()).isEqualTo(200);
            assertThat(viaOf(r)).contains(authenticated.name());
        }
    }

    @Test
    void anAuthenticatedProxyRefusesWrongCredentials() throws IOException {
        // given
        start(pool().withSecret("auth", "http://scraper:wrong@127.0.0.1:" + authenticated.port())
                .withRetry(new dev.proxymanager.middleware.config.RetryPolicy(0, Duration.ZERO, Duration.ZERO, false)));
        int before = upstream.total();
        try (Request req = pm.request(SecretType.PROXY, "scrape", false)) {
            // when
            Response r = req.send("GET", upstream.url("/page"), null, null);

            // then tinyproxy refuses (it answers 401 to bad credentials) and nothing reaches the upstream
            assertThat(r.status()).isIn(401, 407);
            assertThat(upstream.total()).isEqualTo(before);
            assertThat(r.toString()).doesNotContain("wrong");
        }
    }
}
