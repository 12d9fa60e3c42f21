package dev.proxymanager.server.proxy;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real site on loopback, over HTTP and HTTPS (a self-signed certificate made by keytool): answers
 * {@code site <path> via=<Via>} and records each request's headers. It can answer differently to requests that
 * arrive through one upstream proxy (found by the proxy's name in {@code Via}), to play a site that bans a proxy.
 */
final class TestSite implements AutoCloseable {

    private final Server server = new Server();
    private final ServerConnector http;
    private final ServerConnector https;
    final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    /** Status and body answered to requests whose Via names the key (an upstream proxy's name). */
    /** The answer (status, body) to requests through a proxy ("pm-a"), or for one host through it ("localhost pm-a"). */
    final Map<String, Map.Entry<Integer, String>> answerByProxy = new ConcurrentHashMap<>();
    /** Extra response headers to requests through a proxy ("pm-a"), or for one host through it ("localhost pm-a"). */
    final Map<String, Map<String, String>> headersByProxy = new ConcurrentHashMap<>();
    /** Status and body answered to the next requests, one each, before the usual answer (HTTPS hides Via). */
    final java.util.Queue<Map.Entry<Integer, String>> nextAnswers = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Path keystore;
    /** Requests to /together* wait for this many to be in at once. */
    static final int TOGETHER = 4;
    final java.util.concurrent.CountDownLatch together = new java.util.concurrent.CountDownLatch(TOGETHER);
    final java.util.concurrent.atomic.AtomicInteger inTogether = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger maxTogether = new java.util.concurrent.atomic.AtomicInteger();

    TestSite(Path dir) throws Exception {
        this.keystore = dir.resolve("site.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "site", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", keystore.toString(),
                "-storetype", "PKCS12", "-storepass", "site-pass", "-keypass", "site-pass")
                .redirectErrorStream(true).start();
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0 || !Files.exists(keystore)) {
            throw new IllegalStateException("keytool failed: " + new String(keytool.getInputStream().readAllBytes()));
        }
        http = new ServerConnector(server);
        http.setHost("127.0.0.1");
        server.addConnector(http);
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keystore.toString());
        tls.setKeyStorePassword("site-pass");
        tls.setKeyStoreType("PKCS12");
        HttpConfiguration config = new HttpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        config.addCustomizer(secure);
        https = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(config));
        https.setHost("127.0.0.1");
        server.addConnector(https);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Map<String, String> headers = new ConcurrentHashMap<>();
                for (HttpField f : request.getHeaders()) {
                    headers.merge(f.getLowerCaseName(), f.getValue(), (a, b) -> a + ", " + b);
                }
                headers.put(":path", request.getHttpURI().getPathQuery());
                requests.add(headers);
                String via = headers.getOrDefault("via", "");
                int status = 200;
                String body = "site " + request.getHttpURI().getPathQuery() + " via=" + via;
                String host = request.getHttpURI().getHost();
                if (request.getHttpURI().getPath().startsWith("/together")) {
                    // holds each request until TOGETHER are in at once (or 5 s): shows whether they run concurrently
                    maxTogether.accumulateAndGet(inTogether.incrementAndGet(), Math::max);
                    together.countDown();
                    try {
                        together.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    inTogether.decrementAndGet();
                }
                for (Map.Entry<String, Map.Entry<Integer, String>> a : answerByProxy.entrySet()) {
                    // a key "proxy" answers every host through that proxy, "host proxy" that host only
                    String[] k = a.getKey().split(" ");
                    if (k.length == 2 ? host.equals(k[0]) && via.contains(k[1]) : via.contains(a.getKey())) {
                        status = a.getValue().getKey();
                        body = a.getValue().getValue();
                    }
                }
                for (Map.Entry<String, Map<String, String>> a : headersByProxy.entrySet()) {
                    String[] k = a.getKey().split(" ");
                    if (k.length == 2 ? host.equals(k[0]) && via.contains(k[1]) : via.contains(a.getKey())) {
                        a.getValue().forEach((name, value) -> response.getHeaders().put(name, value));
                    }
                }
                Map.Entry<Integer, String> next = nextAnswers.poll();
                if (next != null) {
                    status = next.getKey();
                    body = next.getValue();
                }
                response.setStatus(status);
                response.getHeaders().put("Content-Type", "text/html; charset=utf-8");
                response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        server.start();
    }

    /** The site's own (self-signed) certificate as a PEM file in {@code dir}. */
    Path certificatePem(Path dir) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keystore)) {
            store.load(in, "site-pass".toCharArray());
        }
        String pem = "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(store.getCertificate("site").getEncoded()) + "\n-----END CERTIFICATE-----\n";
        Path file = dir.resolve("site-" + httpsPort() + ".pem");
        Files.writeString(file, pem);
        return file;
    }

    int httpPort() {
        return http.getLocalPort();
    }

    int httpsPort() {
        return https.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
