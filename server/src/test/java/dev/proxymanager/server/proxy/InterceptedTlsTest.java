package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.store.InMemorySessionStore;
import dev.proxymanager.middleware.config.BanBodyPattern;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.server.proxy.tls.CertificateAuthority;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings.EndpointRule;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS interception on the proxy port end to end: real curl, the JDK HttpClient, real tinyproxy upstreams and real
 * loopback HTTPS sites with their own self-signed certificates (one trusted through {@code proxy_upstream_trust_store},
 * one not).
 */
class InterceptedTlsTest {

    static final String TOKEN = "proxy-token-for-tests-0123";

    @TempDir
    static Path dir;
    static TestSite site;
    static TestSite untrustedSite;
    static Tinyproxy proxyA;
    static Tinyproxy proxyB;
    static CertificateAuthority ca;
    static Path caCert;
    static Path siteCert;

    ProxyManager manager;
    ForwardProxyServer server;
    InMemoryRequestLog requestLog;

    @BeforeAll
    static void startSitesUpstreamsAndCa() throws Exception {
        site = new TestSite(Files.createDirectories(dir.resolve("site")));
        untrustedSite = new TestSite(Files.createDirectories(dir.resolve("untrusted")));
        proxyA = Tinyproxy.start("pm-a");
        proxyB = Tinyproxy.start("pm-b", "bob", "upstream-pass-5678");
        ca = CertificateAuthority.create("tests", Instant.now(), Duration.ofDays(2));
        caCert = ca.writeTo(dir.resolve("ca"));
        siteCert = site.certificatePem(dir);
    }

    @AfterAll
    static void stopAll() throws Exception {
        site.close();
        untrustedSite.close();
        proxyA.close();
        proxyB.close();
    }

    @AfterEach
    void stopServer() throws Exception {
        site.nextAnswers.clear();
        site.requests.clear();
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    /** A proxy port over endpoint "pool" (round robin over pm-a and pm-b), intercepting with {@code rule}. */
    void start(EndpointRule rule, List<CidrBlock> trusted) throws Exception {
        start(rule, trusted, b -> b);
    }

    void start(EndpointRule rule, List<CidrBlock> trusted,
               java.util.function.UnaryOperator<ProxyManager.Builder> extras) throws Exception {
        String json = "{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":\"round-robin\","
                + "\"timeouts\":{\"connect\":\"2s\",\"read\":\"10s\"},\"retry\":{\"max_retries\":2},"
                + "\"allowed_targets\":[\"127.0.0.1\"],"
                + "\"health\":{\"ban_statuses\":[403],\"ban_body_pattern\":\"(?i)please solve the captcha\"},"
                + "\"secrets\":["
                + "{\"id\":\"pm-a\",\"value\":\"" + proxyA.urlWithCredentials() + "\"},"
                + "{\"id\":\"pm-b\",\"value\":\"" + proxyB.urlWithCredentials() + "\"}]}}}";
        requestLog = new InMemoryRequestLog();
        manager = extras.apply(ProxyManager.builder().secrets(SecretsConfig.parse(json, Map.of()))
                .usageStore(new InMemoryUsageStore()).requestLog(requestLog).maxWait(Duration.ZERO)).build();
        ForwardProxySettings settings = new ForwardProxySettings(0, TOKEN, trusted, trusted.isEmpty() ? null : "pool",
                Duration.ofMinutes(10));
        TlsInterceptionSettings tls = new TlsInterceptionSettings(caCert,
                caCert.resolveSibling(CertificateAuthority.KEY_FILE), Map.of("pool", rule), siteCert);
        server = new ForwardProxyServer("127.0.0.1", settings, tls, manager, SystemClock.INSTANCE,
                new SimpleMeterRegistry(), Duration.ofSeconds(30), 1024 * 1024, 64, new InMemorySessionStore()).start();
    }

    /** The request log once it holds {@code n} entries (the last is written after the response is relayed). */
    List<RequestLogEntry> logged(int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> requestLog.entries().size() >= n);
        return requestLog.entries();
    }

    static EndpointRule intercepting(String... exclude) {
        return new EndpointRule(true, List.of(exclude));
    }

    String proxy() {
        return "http://pool:" + TOKEN + "@127.0.0.1:" + server.port();
    }

    String siteUrl(TestSite s, String path) {
        return "https://127.0.0.1:" + s.httpsPort() + path;
    }

    @Test
    void curlTrustingTheCaGetsTheSiteThroughARotatedUpstreamAndTheRequestIsLoggedWithItsHttpsUrl() throws Exception {
        // given a port intercepting TLS for endpoint "pool"
        start(intercepting(), List.of());

        // when curl, trusting only the CA, asks for an HTTPS page through it
        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(site, "/hello?token=s3cr3t"));

        // then the proxy answered CONNECT itself, and the site's answer came back with the proxy's headers
        assertThat(r.connectStatus()).isEqualTo(200);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("site /hello?token=s3cr3t");
        assertThat(r.header("X-Proxy-Manager-Secret")).isIn("pm-a", "pm-b");
        assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("1");
        // the request reached the site with our Via and no proxy credentials
        assertThat(site.requests).singleElement().satisfies(h -> {
            assertThat(h.get("via")).contains("proxy-manager");
            assertThat(h).doesNotContainKey("proxy-authorization");
        });
        // and the request log has the HTTPS URL without its query
        RequestLogEntry logged = logged(1).getFirst();
        assertThat(logged.method()).isEqualTo("GET");
        assertThat(logged.url()).isEqualTo(siteUrl(site, "/hello"));
        assertThat(logged.proxyId()).isEqualTo(r.header("X-Proxy-Manager-Secret"));
        assertThat(requestLog.entries().toString()).doesNotContain("s3cr3t").doesNotContain("upstream-pass-5678");
    }

    @Test
    @ExtendWith(ElasticsearchExtension.class)
    void theSecondIdenticalGetInsideTheTunnelIsServedFromTheCache(ElasticsearchTestNode es) throws Exception {
        // given a port intercepting TLS over a real Elasticsearch response cache
        start(intercepting(), List.of(), b -> b.elasticsearch(es.url()).cacheIndex(es.index("pm-tls-cache")));
        String url = siteUrl(site, "/cached?q=" + System.nanoTime());

        // when the same GET is sent twice
        Curl first = Curl.run("--cacert", caCert.toString(), "-x", proxy(), url);
        Curl second = Curl.run("--cacert", caCert.toString(), "-x", proxy(), url);

        // then the site saw one request and the second answer came from the cache
        assertThat(first.header("X-Cache")).isEqualTo("MISS");
        assertThat(first.header("X-Proxy-Manager-Secret")).isIn("pm-a", "pm-b");
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.header("X-Cache")).isEqualTo("HIT");
        assertThat(second.body()).isEqualTo(first.body());
        assertThat(site.requests).hasSize(1);
    }

    @Test
    void aSessionNamedAtConnectKeepsItsUpstreamProxyAcrossInterceptedConnections() throws Exception {
        start(intercepting(), List.of());
        String sessionProxy = "http://pool,session=s1:" + TOKEN + "@127.0.0.1:" + server.port();

        Curl first = Curl.run("--cacert", caCert.toString(), "-x", sessionProxy, siteUrl(site, "/s/1"));
        Curl second = Curl.run("--cacert", caCert.toString(), "-x", sessionProxy, siteUrl(site, "/s/2"));
        Curl third = Curl.run("--cacert", caCert.toString(), "-x", sessionProxy, siteUrl(site, "/s/3"));

        assertThat(first.header("X-Proxy-Manager-Session")).isEqualTo("s1");
        assertThat(List.of(second.header("X-Proxy-Manager-Secret"), third.header("X-Proxy-Manager-Secret")))
                .containsOnly(first.header("X-Proxy-Manager-Secret"));
        assertThat(server.metrics().interceptedTunnels()).isEqualTo(3);
    }

    @Test
    void aRequestInsideTheTunnelGoesToTheConnectTargetWhateverItsUrlOrHostSays() throws Exception {
        // given a second site the client is not tunnelled to
        start(intercepting(), List.of());

        // when the request line inside the tunnel names another host (absolute form) and a Host header another
        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), "-H", "Host: 127.0.0.1:" + untrustedSite.httpsPort(),
                "--request-target", "https://127.0.0.1:" + untrustedSite.httpsPort() + "/elsewhere",
                siteUrl(site, "/ignored"));

        // then it went to the CONNECT's target only
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("site /elsewhere");
        assertThat(untrustedSite.requests).isEmpty();
    }

    @Test
    @ExtendWith(ElasticsearchExtension.class)
    void aBodyTooLargeForTheCacheIsStreamedWholeNotHeldInMemory(ElasticsearchTestNode es) throws Exception {
        // given a cache in front, and a page five times larger than the cache holds
        start(intercepting(), List.of(), b -> b.elasticsearch(es.url()).cacheIndex(es.index("pm-tls-cache-large")));
        int size = 5 * ForwardProxyHandler.MAX_CACHED_BODY;
        String big = "y".repeat(size);
        site.nextAnswers.add(Map.entry(200, big));
        Path out = dir.resolve("large.out");

        // when curl fetches it (to a file, so the test JVM only allocates the site's copy and the proxy's own)
        long before = allocatedBytes();
        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), "-o", out.toString(), siteUrl(site, "/large"));
        long allocated = allocatedBytes() - before;

        // then it arrived whole, and the JVM allocated what the site and TLS on the way cost (about 2 x the body
        // measured), not a copy held for the cache on top (about 4 x when the proxy read it whole)
        assertThat(r.status()).isEqualTo(200);
        assertThat(Files.size(out)).isBetween((long) size, size + 2048L); // curl -i writes the head in front
        assertThat(allocated).as("bytes allocated while the body passed").isLessThan(size * 5L / 2);
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getTotalThreadAllocatedBytes();
    }

    @Test
    void clientThatDoesNotTrustTheCaFailsTheHandshakeAndNothingIsServed() throws Exception {
        start(intercepting(), List.of());

        Curl r = Curl.run("-x", proxy(), siteUrl(site, "/never"));

        // the CONNECT was answered, then curl refused the certificate: no response, no request reached the site
        assertThat(r.connectStatus()).isEqualTo(200);
        assertThat(r.status()).isZero();
        assertThat(site.requests).isEmpty();
        assertThat(requestLog.entries()).isEmpty();
    }

    @Test
    void aBanStatusInsideTheTunnelMovesTheRequestToTheOtherUpstreamProxy() throws Exception {
        // given a site that bans the first request it sees (the upstream proxy is hidden by TLS)
        start(intercepting(), List.of());
        site.nextAnswers.add(Map.entry(403, "banned"));

        // when
        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(site, "/item"));

        // then the second attempt, through the other proxy, answered
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("2");
        RequestLogEntry banned = logged(2).get(0);
        RequestLogEntry served = requestLog.entries().get(1);
        assertThat(banned.outcome()).isEqualTo(OutcomeKind.BANNED);
        assertThat(banned.status()).isEqualTo(403);
        assertThat(served.outcome()).isEqualTo(OutcomeKind.SUCCESS);
        assertThat(served.proxyId()).isNotEqualTo(banned.proxyId()).isEqualTo(r.header("X-Proxy-Manager-Secret"));
    }

    @Test
    void aBodyPatternInsideTheTunnelIsABanThatMovesTheRequestToTheOtherUpstreamProxy() throws Exception {
        // given a site that answers its first request with a captcha page, status 200
        start(intercepting(), List.of());
        site.nextAnswers.add(Map.entry(200, "<html>Please solve the CAPTCHA</html>"));

        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(site, "/page"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("site /page");
        assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("2");
        RequestLogEntry banned = logged(2).get(0);
        assertThat(banned.outcome()).isEqualTo(OutcomeKind.BANNED);
        assertThat(banned.errorType()).isEqualTo("body_pattern");
        assertThat(requestLog.entries().get(1).proxyId()).isNotEqualTo(banned.proxyId());
    }

    @Test
    void aBodyPatternOnAPlainHttpRequestIsABanToo() throws Exception {
        start(intercepting(), List.of());
        site.nextAnswers.add(Map.entry(200, "please solve the captcha"));

        Curl r = Curl.run("-x", proxy(), "http://127.0.0.1:" + site.httpPort() + "/plain");

        assertThat(r.body()).startsWith("site /plain");
        assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("2");
    }

    @Test
    void whenEveryProxyIsBannedTheLastBannedAnswerIsRelayedWhole() throws Exception {
        // given both upstream proxies get a captcha page longer than the part checked
        start(intercepting(), List.of());
        String big = "please solve the captcha " + "x".repeat(BanBodyPattern.SCAN_LIMIT * 2);
        site.nextAnswers.add(Map.entry(200, big));
        site.nextAnswers.add(Map.entry(200, big));

        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(site, "/big"));

        // then with no third proxy free, the second ban is what the client sees, whole, logged once per attempt
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("2");
        assertThat(r.body()).isEqualTo(big);
        assertThat(requestLog.entries()).hasSize(2).allSatisfy(e -> assertThat(e.outcome()).isEqualTo(OutcomeKind.BANNED));
    }

    @Test
    void excludedHostsAreTunnelledUntouchedSoTheClientSeesTheSitesOwnCertificate() throws Exception {
        start(intercepting("127.0.0.0/8"), List.of());

        // the site's own certificate verifies; the CA's does not (nothing was minted)
        Curl own = Curl.run("--cacert", siteCert.toString(), "-x", proxy(), siteUrl(site, "/own"));
        Curl viaCa = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(site, "/own"));

        assertThat(own.status()).isEqualTo(200);
        assertThat(own.body()).startsWith("site /own");
        assertThat(own.header("X-Proxy-Manager-Secret")).isNull(); // inside the site's TLS: nothing of ours
        assertThat(viaCa.status()).isZero();
    }

    @Test
    void interceptionOffByDefaultLeavesTheSitesCertificate() throws Exception {
        start(new EndpointRule(false, List.of()), List.of());

        Curl own = Curl.run("--cacert", siteCert.toString(), "-x", proxy(), siteUrl(site, "/own"));

        assertThat(own.status()).isEqualTo(200);
    }

    @Test
    void aSiteWhoseCertificateIsNotTrustedIs502UpstreamTls() throws Exception {
        start(intercepting(), List.of());

        Curl r = Curl.run("--cacert", caCert.toString(), "-x", proxy(), siteUrl(untrustedSite, "/x"));

        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("X-Proxy-Manager-Error")).isEqualTo("upstream_tls");
        assertThat(untrustedSite.requests).isEmpty();
        assertThat(requestLog.entries()).singleElement().satisfies(e -> {
            assertThat(e.errorType()).isEqualTo("upstream_tls");
            assertThat(e.url()).isEqualTo(siteUrl(untrustedSite, "/x"));
        });
    }

    @Test
    void jdkHttpClientTrustingTheCaSendsSeveralRequestsInOneInterceptedConnection() throws Exception {
        start(intercepting(), List.of(CidrBlock.parse("127.0.0.0/8")));
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("pm-ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        try (HttpClient client = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_2)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", server.port()))).build()) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(siteUrl(site, "/jdk/" + i)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1); // h2 offered, HTTP/1.1 chosen
                assertThat(r.body()).startsWith("site /jdk/" + i);
            }
        }
        assertThat(logged(3)).hasSize(3).allSatisfy(e -> assertThat(e.outcome()).isEqualTo(OutcomeKind.SUCCESS));
    }
}
