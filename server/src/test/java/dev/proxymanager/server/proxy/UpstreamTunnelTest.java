package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.transport.ProxyAddress;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The upstream CONNECT handshake against a real loopback socket playing the upstream proxy. */
class UpstreamTunnelTest {

    /** Answers one CONNECT with {@code answer} in a single write and returns the request head it read. */
    static CompletableFuture<String> upstreamAnswering(ServerSocket server, String answer) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    head.append((char) in.read());
                }
                s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                s.shutdownOutput();
                in.read(); // until the client closes
                return head.toString();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void bytesTheSiteSendsRightAfterTheAnswerAreLeftForTheTunnel() throws Exception {
        // given an upstream whose answer and the site's first bytes (a server-speaks-first protocol) arrive together
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> request = upstreamAnswering(server,
                    "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\nSSH-2.0-banner\r\n");
            ProxyAddress proxy = ProxyAddress.parse("http://u:p@127.0.0.1:" + server.getLocalPort());

            // when the tunnel is opened
            try (SocketChannel channel = UpstreamTunnel.open(proxy, "example.com", 22, Duration.ofSeconds(2),
                    Duration.ofSeconds(2))) {

                // then the banner is still to be read from the tunnel, whole
                channel.configureBlocking(true);
                ByteBuffer banner = ByteBuffer.allocate(64);
                while (channel.read(banner) > 0) {
                    // until the upstream's end of stream
                }
                assertThat(new String(banner.array(), 0, banner.position(), StandardCharsets.ISO_8859_1))
                        .isEqualTo("SSH-2.0-banner\r\n");
            }
            assertThat(request.get()).startsWith("CONNECT example.com:22 HTTP/1.1\r\n")
                    .contains("Proxy-Authorization: Basic dTpw\r\n");
        }
    }

    @Test
    void aRefusalIsReportedWithItsStatus() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            upstreamAnswering(server, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
            ProxyAddress proxy = ProxyAddress.parse("http://127.0.0.1:" + server.getLocalPort());

            assertThatThrownBy(() -> UpstreamTunnel.open(proxy, "example.com", 443, Duration.ofSeconds(2),
                    Duration.ofSeconds(2)))
                    .isInstanceOfSatisfying(UpstreamConnectException.class, e -> assertThat(e.status()).isEqualTo(407));
        }
    }
}
