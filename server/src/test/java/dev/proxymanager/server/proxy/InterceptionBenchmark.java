package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.store.InMemorySessionStore;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.server.proxy.tls.CertificateAuthority;
import dev.proxymanager.server.proxy.tls.TlsInterception;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;
import dev.proxymanager.server.proxy.tls.UpstreamTrust;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Speed of TLS interception (docs/benchmarks.md): handshakes per second with the certificate cache warm and cold,
 * and requests per second inside one intercepted keep-alive connection against plain HTTP through the proxy port.
 * Not a test (its name does not end in Test): run it by name, it prints numbers and asserts nothing.
 *
 * <pre>./mvnw -B -q -o -pl server -am test -Dtest=InterceptionBenchmark -Dsurefire.failIfNoSpecifiedTests=false</pre>
 */
class InterceptionBenchmark {

    static final int HANDSHAKES = Integer.getInteger("bench.handshakes", 500);
    static final int REQUESTS = Integer.getInteger("bench.requests", 2000);

    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("bench", Instant.now(), Duration.ofDays(2));
        try (TestSite site = new TestSite(dir);
             Tinyproxy upstream = Tinyproxy.start("pm-bench");
             ProxyManager manager = ProxyManager.builder().secrets(SecretsConfig.parse(
                             "{\"endpoints\":{\"bench\":{\"type\":\"proxy\",\"allowed_targets\":[\"127.0.0.0/8\"],"
                                     + "\"secrets\":[{\"id\":\"pm-bench\","
                                     + "\"value\":\"" + upstream.url() + "\"}]}}}", Map.of()))
                     .usageStore(new InMemoryUsageStore()).maxWait(Duration.ZERO).build()) {
            Path caCert = ca.writeTo(dir.resolve("ca"));
            TlsInterceptionSettings rules = new TlsInterceptionSettings(caCert,
                    caCert.resolveSibling(CertificateAuthority.KEY_FILE),
                    Map.of("bench", new TlsInterceptionSettings.EndpointRule(true, List.of())), null);
            SSLContext upstreamTls = UpstreamTrust.context(site.certificatePem(dir));
            ForwardProxySettings settings = new ForwardProxySettings(0, null, List.of(CidrBlock.parse("127.0.0.0/8")),
                    "bench", Duration.ofMinutes(10));
            TrustManagerFactory trustCa = trusting(ca);

            // cold: a cache of one host, two hosts alternating, so every handshake mints a certificate
            try (ForwardProxyServer cold = new ForwardProxyServer("127.0.0.1", settings,
                    TlsInterception.create(ca, rules, SystemClock.INSTANCE, 1), upstreamTls,
                    manager, SystemClock.INSTANCE, new SimpleMeterRegistry(), Duration.ofSeconds(30), 1 << 20, 64,
                    new InMemorySessionStore())
                    .start()) {
                handshakes(cold.port(), trustCa, HANDSHAKES / 5, true); // warm-up of the JIT
                report("handshakes/s, certificate cache cold", HANDSHAKES, handshakes(cold.port(), trustCa, HANDSHAKES, true));
            }
            try (ForwardProxyServer warm = new ForwardProxyServer("127.0.0.1", settings,
                    TlsInterception.create(ca, rules, SystemClock.INSTANCE, 1000), upstreamTls,
                    manager, SystemClock.INSTANCE, new SimpleMeterRegistry(), Duration.ofSeconds(30), 1 << 20, 64,
                    new InMemorySessionStore())
                    .start()) {
                handshakes(warm.port(), trustCa, HANDSHAKES / 5, false);
                report("handshakes/s, certificate cache warm", HANDSHAKES, handshakes(warm.port(), trustCa, HANDSHAKES, false));

                SSLContext client = SSLContext.getInstance("TLS");
                client.init(null, trustCa.getTrustManagers(), null);
                try (HttpClient http = HttpClient.newBuilder().sslContext(client).version(HttpClient.Version.HTTP_1_1)
                        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", warm.port()))).build()) {
                    String plain = "http://127.0.0.1:" + site.httpPort() + "/bench";
                    String https = "https://127.0.0.1:" + site.httpsPort() + "/bench";
                    requests(http, plain, REQUESTS / 5);
                    requests(http, https, REQUESTS / 5);
                    report("requests/s, plain HTTP through the proxy port (keep-alive)", REQUESTS, requests(http, plain, REQUESTS));
                    report("requests/s, inside one intercepted keep-alive connection", REQUESTS, requests(http, https, REQUESTS));
                }
            }
        }
    }

    private static TrustManagerFactory trusting(CertificateAuthority ca) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf;
    }

    /** CONNECT + a full TLS handshake (a new client context each time: no session resumption), sequentially. */
    private static long handshakes(int port, TrustManagerFactory trust, int n, boolean alternateHosts) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String host = alternateHosts ? "127.0.0." + (2 + i % 2) : "127.0.0.1";
            try (Socket raw = new Socket("127.0.0.1", port)) {
                OutputStream out = raw.getOutputStream();
                out.write(("CONNECT " + host + ":443 HTTP/1.1\r\nHost: " + host + ":443\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                InputStream in = raw.getInputStream();
                String head = readHead(in);
                if (!head.startsWith("HTTP/1.1 200")) {
                    throw new IllegalStateException("CONNECT answered " + head);
                }
                SSLContext client = SSLContext.getInstance("TLS");
                client.init(null, trust.getTrustManagers(), null);
                try (SSLSocket tls = (SSLSocket) client.getSocketFactory().createSocket(raw, host, 443, true)) {
                    tls.startHandshake();
                }
            }
        }
        return System.nanoTime() - start;
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }

    private static long requests(HttpClient http, String url, int n) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).build();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(url + " answered " + r.statusCode());
            }
        }
        return System.nanoTime() - start;
    }

    private static void report(String what, int n, long nanos) {
        System.out.printf("BENCH %-60s %8.1f  (%d in %.2f s, %.2f ms each)%n", what, n / (nanos / 1e9), n, nanos / 1e9,
                nanos / 1e6 / n);
    }
}
