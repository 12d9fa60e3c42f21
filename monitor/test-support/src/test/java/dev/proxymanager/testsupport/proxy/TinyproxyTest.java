package dev.proxymanager.testsupport.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TinyproxyTest {

    @Test
    void startsOnAFreeLoopbackPortAsksForCredentialsAndStops() throws IOException {
        // given
        try (Tinyproxy proxy = Tinyproxy.start("support-check", "user", "pass")) {
            // when a request comes without credentials
            String status;
            try (Socket s = new Socket("127.0.0.1", proxy.port())) {
                OutputStream out = s.getOutputStream();
                out.write("GET http://127.0.0.1:9/ HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            }

            // then it is refused by the proxy itself, and the URL carries the credentials
            assertTrue(proxy.isRunning());
            assertTrue(status.startsWith("HTTP/1.") && (status.endsWith("407") || status.endsWith("401")), status);
            assertEquals("http://user:pass@127.0.0.1:" + proxy.port(), proxy.urlWithCredentials());

            // and after stop it is gone
            proxy.stop();
            assertFalse(proxy.isRunning());
        }
    }
}
