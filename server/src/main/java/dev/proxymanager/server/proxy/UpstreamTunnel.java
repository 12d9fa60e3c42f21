package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.transport.ProxyAddress;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/**
 * Opens a tunnel through an upstream proxy: connects to it, sends {@code CONNECT host:port} with its credentials and
 * reads its answer. The handshake blocks (bounded by the timeouts); the returned channel is non-blocking, ready for
 * the NIO relay. This class is threadsafe (stateless).
 */
final class UpstreamTunnel {

    /** Longest upstream answer head read: 16 KiB. */
    private static final int MAX_HEAD = 16 * 1024;

    private UpstreamTunnel() {
    }

    /**
     * @throws UpstreamConnectException when the upstream answers CONNECT with a non-2xx status
     * @throws java.net.SocketTimeoutException when the connect or the answer times out
     * @throws IOException when the connection fails
     */
    static SocketChannel open(ProxyAddress proxy, String host, int port, Duration connectTimeout, Duration readTimeout)
            throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().setTcpNoDelay(true);
            channel.socket().connect(new InetSocketAddress(proxy.host().getHostName(), proxy.host().getPort()),
                    (int) connectTimeout.toMillis());
            channel.socket().setSoTimeout((int) readTimeout.toMillis());
            String authority = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            StringBuilder head = new StringBuilder("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ")
                    .append(authority).append("\r\n");
            if (proxy.hasCredentials()) {
                String basic = Base64.getEncoder().encodeToString((proxy.user() + ":" + proxy.password())
                        .getBytes(StandardCharsets.UTF_8));
                head.append("Proxy-Authorization: Basic ").append(basic).append("\r\n");
            }
            head.append("\r\n");
            ByteBuffer out = ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            int status = readStatus(channel.socket().getInputStream());
            if (status / 100 != 2) {
                throw new UpstreamConnectException(status, "upstream proxy answered CONNECT with " + status);
            }
            channel.configureBlocking(false);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Reads the answer head and returns its status. No tunnelled byte may be consumed, and the head ends at the
     * first CRLFCRLF: with {@code matched} bytes of that already seen, the next {@code 4 - matched} bytes cannot go
     * past it, so that many are read at once (a syscall per 4 bytes, not per byte).
     */
    private static int readStatus(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        byte[] chunk = new byte[4];
        int matched = 0;
        while (matched < 4) {
            int n = in.read(chunk, 0, 4 - matched);
            if (n < 0) {
                throw new IOException("upstream proxy closed the connection before answering CONNECT");
            }
            if (head.length() + n > MAX_HEAD) {
                throw new IOException("upstream proxy's answer to CONNECT is longer than " + MAX_HEAD + " bytes");
            }
            for (int i = 0; i < n; i++) {
                int b = chunk[i];
                head.append((char) (b & 0xff));
                matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                        ? matched + 1 : (b == '\r' ? 1 : 0);
            }
        }
        String statusLine = head.substring(0, head.indexOf("\r\n"));
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("upstream proxy answered CONNECT with a malformed status line");
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("upstream proxy answered CONNECT with a malformed status line");
        }
    }
}
