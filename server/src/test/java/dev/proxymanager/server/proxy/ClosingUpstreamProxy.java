package dev.proxymanager.server.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream HTTP proxy on a real loopback socket that answers absolute-form requests itself and drops kept-alive
 * connections the way real proxies do, never saying {@code Connection: close}: tinyproxy closes right after each
 * answer; a proxy whose idle timeout fires as our next request arrives closes (or resets) on that request.
 */
final class ClosingUpstreamProxy implements AutoCloseable {

    /** When a connection is dropped. */
    enum Drop {
        /** after the first answer, at once (tinyproxy) */
        AFTER_ANSWER,
        /** on the second request, read whole and left unanswered, with a clean close */
        CLOSE_ON_NEXT_REQUEST,
        /** on the second request, read whole and left unanswered, with a reset */
        RESET_ON_NEXT_REQUEST
    }

    private final ServerSocket server;
    private final Drop drop;
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger dropped = new AtomicInteger();

    ClosingUpstreamProxy(Drop drop) throws IOException {
        this.drop = drop;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("closing-upstream").start(this::accept);
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
            byte[] body = "answered by the closing upstream\n".getBytes(StandardCharsets.US_ASCII);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            answered.incrementAndGet();
            if (drop == Drop.AFTER_ANSWER) {
                dropped.incrementAndGet();
                return;
            }
            if (readRequest(in)) {
                // read whole, so closing sends a FIN, not a reset for unread bytes
                dropped.incrementAndGet();
                if (drop == Drop.RESET_ON_NEXT_REQUEST) {
                    s.setSoLinger(true, 0);
                }
            }
        } catch (IOException e) {
            // the client went away
        }
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
