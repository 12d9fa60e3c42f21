package dev.proxymanager.server.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream HTTP proxy on a real loopback socket that answers absolute-form requests itself and misbehaves the
 * way real proxies do: it drops kept-alive connections without saying {@code Connection: close} (tinyproxy closes
 * right after each answer; a proxy whose idle timeout fires as our next request arrives closes or resets on that
 * request), or it is slow: it never answers, stalls in the middle of a body, or trickles a body out.
 */
final class MisbehavingUpstreamProxy implements AutoCloseable {

    /** What goes wrong on each connection. */
    enum Misbehaviour {
        /** closes after the first answer, at once (tinyproxy) */
        CLOSE_AFTER_ANSWER,
        /** on the second request, read whole and left unanswered, with a clean close */
        CLOSE_ON_NEXT_REQUEST,
        /** on the second request, read whole and left unanswered, with a reset */
        RESET_ON_NEXT_REQUEST,
        /** reads the request and never answers */
        NEVER_ANSWER,
        /** sends the head and the first {@link #STALLED_AFTER} bytes of {@link #BODY}, then nothing more */
        STALL_MID_BODY,
        /** sends the head of a {@link #LARGE_BODY} byte body and its first {@link #LARGE_STALLED_AFTER}, then nothing */
        STALL_MID_LARGE_BODY,
        /** sends the body a byte every {@link #TRICKLE_PAUSE} */
        TRICKLE_BODY
    }

    /** The body of every answer. */
    static final String BODY = "answered by the misbehaving upstream\n";
    static final int STALLED_AFTER = 10;
    static final int LARGE_BODY = 100_000;
    static final int LARGE_STALLED_AFTER = 40_000;
    static final Duration TRICKLE_PAUSE = Duration.ofMillis(25);

    private final ServerSocket server;
    private final Misbehaviour drop;
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger dropped = new AtomicInteger();
    /** Connections this upstream has seen closed by the other side (or reset) while it held them. */
    final AtomicInteger closedByClient = new AtomicInteger();

    MisbehavingUpstreamProxy(Misbehaviour drop) throws IOException {
        this.drop = drop;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("misbehaving-upstream").start(this::accept);
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            if (!readRequest(in)) {
                return;
            }
            if (drop == Misbehaviour.NEVER_ANSWER) {
                awaitClose(in);
                return;
            }
            byte[] body = drop == Misbehaviour.STALL_MID_LARGE_BODY ? new byte[LARGE_BODY]
                    : BODY.getBytes(StandardCharsets.US_ASCII);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            if (drop == Misbehaviour.STALL_MID_BODY || drop == Misbehaviour.STALL_MID_LARGE_BODY) {
                out.write(body, 0, drop == Misbehaviour.STALL_MID_BODY ? STALLED_AFTER : LARGE_STALLED_AFTER);
                out.flush();
                awaitClose(in);
                return;
            }
            if (drop == Misbehaviour.TRICKLE_BODY) {
                for (byte b : body) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(TRICKLE_PAUSE);
                }
            } else {
                out.write(body);
                out.flush();
            }
            answered.incrementAndGet();
            if (drop == Misbehaviour.CLOSE_AFTER_ANSWER) {
                dropped.incrementAndGet();
                return;
            }
            if (readRequest(in)) {
                // read whole, so closing sends a FIN, not a reset for unread bytes
                dropped.incrementAndGet();
                if (drop == Misbehaviour.RESET_ON_NEXT_REQUEST) {
                    s.setSoLinger(true, 0);
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away
        }
    }

    /** Holds the connection silent until the client closes it (or this upstream is closed). */
    private void awaitClose(InputStream in) {
        try {
            while (in.read() >= 0) {
                // a client sends nothing more on a connection waiting for an answer
            }
        } catch (IOException e) {
            // reset: closed all the same
        }
        closedByClient.incrementAndGet();
    }

    /** Reads one request's head and its Content-Length body; false at the end of the stream. */
    private static boolean readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            head.append((char) b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        long length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(line.substring("content-length:".length()).strip());
            }
        }
        in.skipNBytes(length);
        return true;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
