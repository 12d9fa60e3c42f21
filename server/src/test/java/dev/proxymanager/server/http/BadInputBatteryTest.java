package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an attacker sends over a raw socket: each malformed or hostile request is answered with the right status and
 * the routes' JSON error body, no byte of the answer carries a key, nothing reaches the upstream that should not, and
 * the server still serves afterwards.
 */
class BadInputBatteryTest {

    private static final String KEY = "sk-live-battery-key-7777";
    private static TestUpstream upstream;
    private static ServerHarness harness;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":1000,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 1000, false);
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    static Stream<Arguments> hostileRequests() {
        String big = "a".repeat(64 * 1024);
        return Stream.of(
                Arguments.of("CR inside a header value", request("GET /health", "X-A: a\rb"), Set.of(400)),
                Arguments.of("bare LF as line end", "GET /health HTTP/1.1\nHost: x\nConnection: close\n\n", Set.of(400)),
                Arguments.of("NUL in a header value", request("GET /health", "X-A: a\0b"), Set.of(400)),
                Arguments.of("LF inside a header name", request("GET /health", "X-\nA: b"), Set.of(400)),
                Arguments.of("encoded path separator", request("GET /proxy/lim/..%2F..%2Fadmin"), Set.of(400)),
                Arguments.of("encoded dot segments", request("GET /proxy/api/%2e%2e/%2e%2e/api/v1/settings"), Set.of(400)),
                Arguments.of("plain dot segments above the root", request("GET /proxy/../../../etc/passwd"), Set.of(400)),
                Arguments.of("encoded NUL in the path", request("GET /proxy/api/a%00b"), Set.of(400)),
                Arguments.of("CR in the request line", request("GET /proxy/api/a\rb"), Set.of(400)),
                Arguments.of("absolute-form request line to the API port, Host differing",
                        request("GET " + upstream.url() + "/steal"), Set.of(400)),
                Arguments.of("absolute-form request line to the API port, Host matching",
                        "GET " + upstream.url() + "/steal HTTP/1.1\r\nHost: " + upstream.url().substring(7)
                                + "\r\nConnection: close\r\n\r\n", Set.of(404)),
                Arguments.of("64 KB header", request("GET /health", "X-Big: " + big), Set.of(431)),
                Arguments.of("64 KB request line", request("GET /proxy/api/" + big), Set.of(414, 431)),
                Arguments.of("garbage request line", "GARBAGE\r\n\r\n", Set.of(400)),
                Arguments.of("unknown HTTP version", "GET /health HTTP/9.9\r\nHost: x\r\n\r\n", Set.of(400, 505)),
                Arguments.of("duplicate Content-Length",
                        request("POST /api/v1/send", "Content-Length: 2", "Content-Length: 3") + "{}", Set.of(400)),
                Arguments.of("Transfer-Encoding with Content-Length",
                        request("POST /api/v1/send", "Transfer-Encoding: chunked", "Content-Length: 2") + "{}",
                        Set.of(400)),
                Arguments.of("malformed JSON", withBody("POST /api/v1/send", "{\"endpoint\": \"api\", "), Set.of(400)),
                Arguments.of("JSON of the wrong shape", withBody("POST /api/v1/send", "[1,2,3]"), Set.of(400)),
                Arguments.of("body over max_request_bytes", withBody("POST /api/v1/send", "{\"x\":\"" + big + "\"}"),
                        Set.of(413)),
                Arguments.of("unicode endpoint name in the path", request("GET /proxy/%E2%98%83%F0%9F%92%A5/x"),
                        Set.of(404)),
                Arguments.of("unicode endpoint name in JSON",
                        withBody("POST /api/v1/send", "{\"endpoint\":\"\u2603\\u0000\",\"url\":\"/x\"}"), Set.of(404)),
                Arguments.of("raw control character in JSON",
                        withBody("POST /api/v1/send", "{\"endpoint\":\"a\u0001\",\"url\":\"/x\"}"), Set.of(400)),
                Arguments.of("CRLF injected through /api/v1/send headers", withBody("POST /api/v1/send",
                        "{\"endpoint\":\"api\",\"url\":\"/x\",\"headers\":{\"X-A\":\"a\\r\\nX-Injected: 1\"}}"), Set.of(400)),
                Arguments.of("target on another port of the allowed host", withBody("POST /api/v1/send",
                        "{\"endpoint\":\"api\",\"url\":\"http://127.0.0.1:1/\"}"), Set.of(403)),
                Arguments.of("file target", withBody("POST /api/v1/send",
                        "{\"endpoint\":\"api\",\"url\":\"file:///etc/passwd\"}"), Set.of(403)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileRequests")
    void answersJsonWithTheRightStatusLeaksNoKeyAndStaysUp(String name, String raw, Set<Integer> statuses)
            throws Exception {
        int callsBefore = upstream.calls.get();

        String answer = exchange(raw);

        int status = Integer.parseInt(answer.substring(9, 12));
        assertThat(statuses).as(name + ": " + firstLine(answer)).contains(status);
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        JsonNode json = HttpExchange.JSON.readTree(body);
        assertThat(json.path("error").isTextual()).as(name + ": " + body).isTrue();
        assertThat(json.path("message").isTextual()).as(name + ": " + body).isTrue();
        assertThat(answer).as(name).doesNotContain(KEY).doesNotContain(ServerHarness.ADMIN_TOKEN)
                .doesNotContainIgnoringCase("<html");
        assertThat(upstream.calls.get()).as(name + ": reached the upstream").isEqualTo(callsBefore);
        assertThat(harness.get("/health").statusCode()).as(name + ": alive afterwards").isEqualTo(200);
    }

    @Test
    void aConnectionSendingHeadersTooSlowlyIsClosed() throws Exception {
        // given a server with a short idle bound, and a client that starts a request and then stalls
        try (var quick = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":10,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, false, 1);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), quick.port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();

            // when it sends nothing more, then the server closes the connection within the bound, not after minutes
            String answer = readAll(s.getInputStream());
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(elapsedMs).isLessThan(8_000);
            if (!answer.isEmpty()) {
                assertThat(answer).doesNotContainIgnoringCase("<html");
            }
            assertThat(quick.get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void headersTricklingInByteByByteAreCutOffByTheHeaderDeadline() throws Exception {
        // given a 1 s header deadline, and a client sending a header byte every 200 ms (so never idle)
        try (var quick = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":10,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, false, 1);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), quick.port)) {
            OutputStream out = s.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            boolean closed = false;

            // when it keeps trickling for up to 8 s
            while (!closed && System.nanoTime() - start < 8_000_000_000L) {
                try {
                    out.write('a');
                    out.flush();
                    Thread.sleep(200); // real time on purpose: the deadline under test runs on Jetty's scheduler
                    s.setSoTimeout(1);
                    closed = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException e) {
                    // still open
                } catch (IOException e) {
                    closed = true;
                }
            }

            // then the server has closed it within two deadlines or so, and still serves others
            assertThat(closed).isTrue();
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
            assertThat(quick.get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aSlowUpstreamAnswerOutlivesTheIdleBoundOfConnectionsOutsideARequest() throws Exception {
        // given connections closed after 1 s of silence outside a request, and an upstream that takes 2.5 s
        try (var quick = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":10,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, false, 1)) {
            java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(1);
            upstream.hold = latch;
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(2_500); // real time on purpose: the bound under test is Jetty's idle timer
                } catch (InterruptedException ignored) {
                    // released by close
                }
                latch.countDown();
            });
            try {
                // when a request waits on it, then its answer still arrives
                assertThat(quick.get("/proxy/api/slow").statusCode()).isEqualTo(200);
            } finally {
                upstream.hold = null;
                latch.countDown();
            }
        }
    }

    private static String request(String requestLine, String... headers) {
        StringBuilder b = new StringBuilder(requestLine).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("Authorization: Bearer ").append(ServerHarness.ADMIN_TOKEN)
                .append("\r\nConnection: close\r\n\r\n").toString();
    }

    private static String withBody(String requestLine, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return request(requestLine, "Content-Type: application/json", "Content-Length: " + bytes.length)
                + new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static String exchange(String raw) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), harness.port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before reading everything (an oversized request)
            }
            return readAll(s.getInputStream());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                bytes.write(buf, 0, n);
            }
        } catch (SocketTimeoutException | java.net.SocketException e) {
            // what arrived is the answer
        }
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private static String firstLine(String answer) {
        int end = answer.indexOf("\r\n");
        return end < 0 ? answer : answer.substring(0, end);
    }
}
