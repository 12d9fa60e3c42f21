package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.RetryPolicy;
import dev.proxymanager.middleware.transport.HttpTransport;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An HTTPS target reached through a real tinyproxy with CONNECT. */
class RequestHttpsProxyTest {

    private static final char[] STORE_PASSWORD = "test-store-pass".toCharArray();

    @TempDir
    static Path dir;
    private static HttpsServer upstream;
    private static SSLContext tls;
    private static Tinyproxy proxy;
    private static final AtomicInteger HITS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        // a self-signed certificate for 127.0.0.1, made by the JDK's keytool
        Path store = dir.resolve("upstream.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "upstream", "-keyalg", "EC", "-dname", "CN=127.0.0.1",
                "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", new String(STORE_PASSWORD))
                .redirectErrorStream(true).start();
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(new String(keytool.getInputStream().readAllBytes())).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, STORE_PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, STORE_PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        upstream = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        upstream.setHttpsConfigurator(new HttpsConfigurator(tls));
        upstream.createContext("/", ex -> {
            HITS.incrementAndGet();
            byte[] b = "secure hello".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        });
        upstream.start();
        proxy = Tinyproxy.start("proxy-tls", "tunnel", "tunnel-pass");
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.stop(0);
        }
    }

    private static ProxyManager manager(String proxyUrl) {
        EndpointConfig e = EndpointConfig.builder("secure", SecretType.PROXY).withSecret("tls", proxyUrl)
                .withRetry(new RetryPolicy(0, Duration.ZERO, Duration.ZERO, false)).build();
        return ProxyManager.builder().secrets(TestEndpoints.config(e))
                .transport(HttpTransport.builder().withSslContext(tls).build()).build();
    }

    @Test
    void anHttpsTargetIsReachedThroughTheProxyTunnel() throws Exception {
        // given
        String url = "https://127.0.0.1:" + upstream.getAddress().getPort() + "/secure";
        int before = HITS.get();

        // when the proxy's credentials are wrong, the tunnel is refused before the target is reached
        try (ProxyManager pm = manager("http://tunnel:wrong@127.0.0.1:" + proxy.port());
             Request req = pm.request(SecretType.PROXY, "secure", false)) {
            Response refused = req.send("GET", url, null, null);
            assertThat(refused.status()).isIn(401, 407);
        }
        assertThat(HITS.get()).isEqualTo(before);

        // then with the right ones the request goes through the tunnel
        try (ProxyManager pm = manager(proxy.urlWithCredentials());
             Request req = pm.request(SecretType.PROXY, "secure", false)) {
            Response r = req.send("GET", url, null, null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("secure hello");
        }
        assertThat(HITS.get()).isEqualTo(before + 1);
    }
}
