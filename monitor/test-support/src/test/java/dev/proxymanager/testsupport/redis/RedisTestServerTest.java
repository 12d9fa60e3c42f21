package dev.proxymanager.testsupport.redis;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisTestServerTest {

    @Test
    void sharedServerIsOneRunningInstancePerJvm() throws IOException {
        RedisTestServer first = RedisTestServer.shared();
        assertThat(RedisTestServer.shared()).isSameAs(first);
        assertThat(first.isRunning()).isTrue();
        assertThat(first.uri()).isEqualTo("redis://127.0.0.1:" + first.port());
        assertThat(send(first.port(), "PING")).isEqualTo("+PONG");
    }

    @Test
    void dedicatedServerStopsAndStartsAgainOnTheSamePortWithoutPersistence() throws IOException {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            int port = redis.port();
            assertThat(send(port, "SET k v")).isEqualTo("+OK");

            redis.stop();
            assertThat(redis.isRunning()).isFalse();
            assertThatThrownBy(() -> send(port, "PING")).isInstanceOf(IOException.class);

            redis.start();
            assertThat(redis.port()).isEqualTo(port);
            assertThat(send(port, "GET k")).as("nothing persisted across the restart").isEqualTo("$-1");
        }
    }

    @Test
    void flushAllEmptiesTheServer() throws IOException {
        RedisTestServer redis = RedisTestServer.shared();
        send(redis.port(), "SET flush-me 1");
        redis.flushAll();
        assertThat(send(redis.port(), "EXISTS flush-me")).isEqualTo(":0");
    }

    private static String send(int port, String inline) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                line.append((char) c);
            }
            return line.toString().strip();
        }
    }
}
