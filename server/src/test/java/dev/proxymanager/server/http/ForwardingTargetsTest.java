package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hc.client5.http.DnsResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Targets are origins, checked before a key is picked and again inside the transport on what it connects to. */
class ForwardingTargetsTest {

    private static final String KEY_A = "sk-live-aaaaaaaa-1111";
    private static final String KEY_B = "sk-live-bbbbbbbb-2222";

    private TestUpstream upstream;
    private ServerHarness harness;
    private Listener listener;

    @AfterEach
    void stop() throws Exception {
        if (harness != null) {
            harness.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (listener != null) {
            listener.close();
        }
    }

    /** An endpoint whose keys are banned after one connection error, with two retries per request. */
    private static String fragileEndpoint(String baseUrl) {
        return "{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":\"" + baseUrl + "\","
                + "\"key\":{\"header\":\"Authorization\",\"format\":\"Bearer {key}\"},"
                + "\"limits\":[{\"requests\":100,\"per\":\"60s\"}],"
                + "\"health\":{\"max_consecutive_failures\":1,\"consecutive_failures_cooldown\":\"1h\"},"
                + "\"retry\":{\"max_retries\":2,\"backoff_base\":\"1ms\",\"backoff_max\":\"2ms\"},"
                + "\"cache\":{\"enabled\":false},"
                + "\"secrets\":[{\"id\":\"key-1\",\"value\":\"" + KEY_A + "\"},{\"id\":\"key-2\",\"value\":\"" + KEY_B + "\"}]}}}";
    }

    private HttpResponseLike sendTo(String url) throws Exception {
        var r = harness.send("POST", "/api/v1/send", "{\"endpoint\":\"api\",\"method\":\"GET\",\"url\":\"" + url + "\"}",
                "Content-Type", "application/json");
        return new HttpResponseLike(r.statusCode(), r.body());
    }

    private record HttpResponseLike(int status, String body) {
    }

    @Test
    void anotherPortOfTheAllowedHostIsRefusedAndReceivesNoKey() throws Exception {
        // given an endpoint on the upstream's origin and a listener on another port of the same host
        upstream = new TestUpstream();
        listener = new Listener();
        harness = new ServerHarness(fragileEndpoint(upstream.url()), 10, 10, 100, false);

        // when a client asks /api/v1/send to call the listener's port
        HttpResponseLike r = sendTo("http://127.0.0.1:" + listener.port() + "/");

        // then it is refused as a target, and the listener was never connected to
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("forbidden_target").contains(":" + listener.port())
                .doesNotContain(KEY_A).doesNotContain(KEY_B);
        assertThat(listener.connections.get()).isZero();
        assertThat(listener.received()).doesNotContain(KEY_A).doesNotContain(KEY_B);
    }

    @Test
    void requestsToAClosedPortDoNotBanTheKeys() throws Exception {
        // given two keys banned by one connection error each, and a port nothing listens on
        upstream = new TestUpstream();
        harness = new ServerHarness(fragileEndpoint(upstream.url()), 10, 10, 100, false);
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        // when a client sends requests to that port, more than the keys could survive
        for (int i = 0; i < 5; i++) {
            assertThat(sendTo("http://127.0.0.1:" + closedPort + "/x").status()).isEqualTo(403);
        }

        // then the keys still serve calls to the endpoint's own origin, and none was charged a failure
        assertThat(harness.get("/proxy/api/ok").statusCode()).isEqualTo(200);
        assertThat(harness.get("/proxy/api/ok").statusCode()).isEqualTo(200);
        JsonNode secrets = HttpExchange.JSON.readTree(harness.get("/api/v1/proxies", "Authorization",
                "Bearer " + ServerHarness.ADMIN_TOKEN).body()).path("endpoints").path("api").path("secrets");
        assertThat(secrets).hasSize(2);
        for (JsonNode s : secrets) {
            assertThat(s.path("failures").asInt()).isZero();
            assertThat(s.path("state").asText()).isEqualTo("ready");
        }
    }

    @Test
    void aRedirectToAnotherPortIsRefusedInsideTheTransportWithoutTheKey() throws Exception {
        // given an upstream that redirects to a listener on another port of its host
        upstream = new TestUpstream();
        listener = new Listener();
        upstream.redirectTo = "http://127.0.0.1:" + listener.port() + "/steal";
        harness = new ServerHarness(fragileEndpoint(upstream.url()), 10, 10, 100, false);

        // when a client calls the endpoint
        var r = harness.get("/proxy/api/start");

        // then the redirect is refused, the listener got nothing, and the refusal banned no key
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("forbidden_target").doesNotContain(KEY_A).doesNotContain(KEY_B);
        assertThat(listener.connections.get()).isZero();
        assertThat(listener.received()).isEmpty();
        upstream.redirectTo = null;
        assertThat(harness.get("/proxy/api/ok").statusCode()).isEqualTo(200);
    }

    @Test
    void aNameThatRebindsToLoopbackIsRefusedOnTheAddressConnectedTo() throws Exception {
        // given an endpoint named by a DNS name whose answer, when HttpClient looks it up, is the loopback address
        upstream = new TestUpstream();
        int port = Integer.parseInt(upstream.url().substring(upstream.url().lastIndexOf(':') + 1));
        AtomicInteger lookups = new AtomicInteger();
        DnsResolver rebinding = new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                lookups.incrementAndGet();
                return new InetAddress[]{InetAddress.getByAddress(host, new byte[]{127, 0, 0, 1})};
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
        harness = new ServerHarness(fragileEndpoint("http://api.rebind.test:" + port), 10, 10, 100, false, rebinding);

        // when a client calls the endpoint
        var r = harness.get("/proxy/api/x");

        // then the connection is refused on the address the transport resolved, and the upstream saw nothing
        assertThat(lookups.get()).isPositive();
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("forbidden_target").contains("loopback");
        assertThat(upstream.calls.get()).isZero();
    }

    /** A raw listener recording every byte it receives. */
    private static final class Listener implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket();
        final AtomicInteger connections = new AtomicInteger();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        Listener() throws IOException {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept(); InputStream in = s.getInputStream()) {
                        connections.incrementAndGet();
                        s.setSoTimeout(500);
                        byte[] buf = new byte[4096];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            synchronized (bytes) {
                                bytes.write(buf, 0, n);
                            }
                        }
                    } catch (IOException ignored) {
                        // closed, or the client went away
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        String received() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.ISO_8859_1);
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(2000);
        }
    }
}
