package dev.proxymanager.server.http;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An exchange keeps its shape through the server: repeated header fields stay separate both ways, and a 50 MB body
 * is held at most once on each way (counted as bytes allocated by the whole JVM while it passes, with a client and an
 * upstream that stream on real sockets and allocate next to nothing).
 */
class ForwardingExchangeTest {

    private static final int BIG = 50 * 1024 * 1024;
    private static final long SLACK = 40L * 1024 * 1024;

    private final Server upstream = new Server();
    private final ServerConnector connector = new ServerConnector(upstream);
    private final List<String> cookiesSeen = new CopyOnWriteArrayList<>();
    private final AtomicLong requestBytesSeen = new AtomicLong();
    private final AtomicLong requestCrcSeen = new AtomicLong();
    private ServerHarness harness;

    @BeforeEach
    void start() throws Exception {
        connector.setHost("127.0.0.1");
        upstream.addConnector(connector);
        upstream.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                for (HttpField f : request.getHeaders()) {
                    if (f.getName().equalsIgnoreCase("Cookie")) {
                        cookiesSeen.add(f.getValue());
                    }
                }
                // stream the request body through a checksum: the upstream holds none of it
                CRC32 crc = new CRC32();
                long n = 0;
                byte[] buf = new byte[64 * 1024];
                try (InputStream in = Content.Source.asInputStream(request)) {
                    int r;
                    while ((r = in.read(buf)) > 0) {
                        crc.update(buf, 0, r);
                        n += r;
                    }
                }
                requestBytesSeen.set(n);
                requestCrcSeen.set(crc.getValue());
                response.setStatus(200);
                response.getHeaders().add("Set-Cookie", "session=abc; Path=/; HttpOnly");
                response.getHeaders().add("Set-Cookie", "theme=dark; Path=/");
                response.getHeaders().put("Content-Type", "application/octet-stream");
                boolean big = request.getHttpURI().getPath().endsWith("/big");
                if (!big) {
                    response.write(true, ByteBuffer.wrap("ok".getBytes(StandardCharsets.UTF_8)), callback);
                    return true;
                }
                response.getHeaders().put("Content-Length", BIG);
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    byte[] chunk = new byte[64 * 1024];
                    for (int sent = 0; sent < BIG; sent += chunk.length) {
                        fill(chunk, sent);
                        out.write(chunk, 0, Math.min(chunk.length, BIG - sent));
                    }
                }
                callback.succeeded();
                return true;
            }
        });
        upstream.start();
        String url = "http://127.0.0.1:" + connector.getLocalPort();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", url,
                "[{\"requests\":100,\"per\":\"60s\"}]", "", "sk-live-aaaaaaaa-1111") + "}}", 10, 10, 3, false,
                BIG + 1024, BIG + 1024);
    }

    @AfterEach
    void stop() throws Exception {
        if (harness != null) {
            harness.close();
        }
        upstream.stop();
    }

    /** The deterministic content of a body at {@code offset}: not all zeros, so a mangled copy shows. */
    private static void fill(byte[] chunk, long offset) {
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) ((offset + i) * 31 >>> 3);
        }
    }

    private static long expectedCrc(int length) {
        CRC32 crc = new CRC32();
        byte[] chunk = new byte[64 * 1024];
        for (int sent = 0; sent < length; sent += chunk.length) {
            fill(chunk, sent);
            crc.update(chunk, 0, Math.min(chunk.length, length - sent));
        }
        return crc.getValue();
    }

    /** A raw HTTP/1.1 exchange on a socket: what it answered, the body read through a checksum, not kept. */
    private record Answer(int status, List<String> headerLines, long bodyBytes, long bodyCrc) {
        List<String> values(String name) {
            List<String> out = new ArrayList<>();
            for (String line : headerLines) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    out.add(line.substring(colon + 1).trim());
                }
            }
            return out;
        }
    }

    private Answer exchange(String method, String path, List<String> headerLines, int streamedBodyLength,
                            byte[] smallBody) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", harness.port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            long length = smallBody != null ? smallBody.length : streamedBodyLength;
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\nContent-Length: " + length + "\r\n");
            headerLines.forEach(h -> head.append(h).append("\r\n"));
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            if (smallBody != null) {
                out.write(smallBody);
            } else {
                byte[] chunk = new byte[64 * 1024];
                for (int sent = 0; sent < streamedBodyLength; sent += chunk.length) {
                    fill(chunk, sent);
                    out.write(chunk, 0, Math.min(chunk.length, streamedBodyLength - sent));
                }
            }
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
            int state = 0;
            while (state < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed in the response head");
                }
                headBytes.write(b);
                state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                        ? state + 1 : 0;
            }
            List<String> lines = new ArrayList<>(List.of(headBytes.toString(StandardCharsets.ISO_8859_1).split("\r\n")));
            int status = Integer.parseInt(lines.removeFirst().split(" ")[1]);
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            int r;
            while ((r = in.read(buf)) > 0) {
                crc.update(buf, 0, r);
                n += r;
            }
            return new Answer(status, lines, n, crc.getValue());
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    @Test
    void twoCookieFieldsGoUpAndTwoSetCookieFieldsComeBackThroughProxy() throws Exception {
        // when a client sends two Cookie fields through /proxy
        Answer a = exchange("GET", "/proxy/api/small", List.of("Cookie: a=1", "Cookie: b=2"), 0, new byte[0]);

        // then the upstream got both, unmerged, and the client both Set-Cookie fields
        assertThat(a.status()).isEqualTo(200);
        assertThat(cookiesSeen).containsExactly("a=1", "b=2");
        assertThat(a.values("Set-Cookie")).containsExactly("session=abc; Path=/; HttpOnly", "theme=dark; Path=/");
    }

    @Test
    void twoCookieValuesGoUpAndTwoSetCookieFieldsComeBackThroughApiSend() throws Exception {
        // when a client asks /api/v1/send for a request with two Cookie fields (an array value)
        byte[] json = """
                {"endpoint": "api", "method": "GET", "url": "/small", "headers": {"Cookie": ["a=1", "b=2"]}}
                """.getBytes(StandardCharsets.UTF_8);
        Answer a = exchange("POST", "/api/v1/send", List.of("Content-Type: application/json"), 0, json);

        // then the upstream got two fields, and the client both Set-Cookie fields
        assertThat(a.status()).isEqualTo(200);
        assertThat(cookiesSeen).containsExactly("a=1", "b=2");
        assertThat(a.values("Set-Cookie")).containsExactly("session=abc; Path=/; HttpOnly", "theme=dark; Path=/");
    }

    @Test
    void fiftyMegabytesGoUpAndComeBackThroughProxyHeldAtMostOnceEachWay() throws Exception {
        // given a warmed-up path (classes loaded, pools filled)
        exchange("POST", "/proxy/api/small", List.of(), 0, "warm".getBytes(StandardCharsets.UTF_8));
        long before = allocatedBytes();

        // when 50 MB go up to the upstream and 50 MB come back
        Answer a = exchange("POST", "/proxy/api/big", List.of("Content-Type: application/octet-stream"), BIG, null);
        long allocated = allocatedBytes() - before;

        // then both bodies arrive intact, and the JVM allocated about one copy of each, not two or three
        assertThat(a.status()).isEqualTo(200);
        assertThat(requestBytesSeen.get()).isEqualTo(BIG);
        assertThat(requestCrcSeen.get()).isEqualTo(expectedCrc(BIG));
        assertThat(a.bodyBytes()).isEqualTo(BIG);
        assertThat(a.bodyCrc()).isEqualTo(expectedCrc(BIG));
        assertThat(a.values("Set-Cookie")).hasSize(2);
        assertThat(allocated).as("bytes allocated while 2 x 50 MB passed").isLessThan(2L * BIG + SLACK);
    }

    @Test
    void fiftyMegabytesComeBackThroughApiSendHeldAtMostOnce() throws Exception {
        // given a warmed-up path
        byte[] small = "{\"endpoint\": \"api\", \"url\": \"/small\"}".getBytes(StandardCharsets.UTF_8);
        exchange("POST", "/api/v1/send", List.of(), 0, small);
        long before = allocatedBytes();

        // when /api/v1/send fetches 50 MB
        byte[] json = "{\"endpoint\": \"api\", \"url\": \"/big\"}".getBytes(StandardCharsets.UTF_8);
        Answer a = exchange("POST", "/api/v1/send", List.of(), 0, json);
        long allocated = allocatedBytes() - before;

        // then they arrive intact, allocated about once
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.bodyBytes()).isEqualTo(BIG);
        assertThat(a.bodyCrc()).isEqualTo(expectedCrc(BIG));
        assertThat(allocated).as("bytes allocated while 50 MB passed").isLessThan((long) BIG + SLACK);
        assertThat(a.values("Content-Type").getFirst().toLowerCase(Locale.ROOT)).isEqualTo("application/octet-stream");
    }
}
