package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the proxy port learns from an exchange, and for whom: the upstream proxy's own answers to CONNECT count for
 * the proxy everywhere, a site's answers and quota headers for that site. Real tinyproxy upstreams, a real loopback
 * site, curl.
 */
class UpstreamSignalsThroughThePortTest {

    static final String TOKEN = "proxy-token-for-tests-0123";

    @TempDir
    static Path dir;
    static TestSite site;
    static Tinyproxy proxyA;
    static Tinyproxy proxyB;

    ProxyManager manager;
    ForwardProxyServer server;
    InMemoryRequestLog requestLog;

    @BeforeAll
    static void startSiteAndUpstreams() throws Exception {
        site = new TestSite(dir);
        proxyA = Tinyproxy.start("pm-a");
        proxyB = Tinyproxy.start("pm-b", "bob", "upstream-pass-5678");
    }

    @AfterAll
    static void stopAll() throws Exception {
        site.close();
        proxyA.close();
        proxyB.close();
    }

    @AfterEach
    void stopServer() throws Exception {
        site.answerByProxy.clear();
        site.headersByProxy.clear();
        site.requests.clear();
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    /**
     * A proxy port over endpoint "pool" (round robin, in this order): {@code secrets} maps each id to its proxy URL.
     */
    void start(String endpointExtras, Map<String, String> secrets) throws Exception {
        StringBuilder list = new StringBuilder();
        secrets.forEach((id, url) -> list.append(list.isEmpty() ? "" : ",").append("{\"id\":\"").append(id)
                .append("\",\"value\":\"").append(url).append("\"}"));
        String json = "{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":\"round-robin\","
                + "\"allowed_targets\":[\"127.0.0.1\"],\"timeouts\":{\"connect\":\"2s\",\"read\":\"10s\"}"
                + endpointExtras + ",\"secrets\":[" + list + "]}}}";
        requestLog = new InMemoryRequestLog();
        manager = ProxyManager.builder().secrets(SecretsConfig.parse(json, Map.of()))
                .usageStore(new InMemoryUsageStore()).requestLog(requestLog).maxWait(Duration.ZERO).build();
        ForwardProxySettings settings = new ForwardProxySettings(0, TOKEN, List.of(), null, Duration.ofMinutes(10));
        server = new ForwardProxyServer("127.0.0.1", settings, manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                Duration.ofSeconds(30), 1024 * 1024, 64).start();
    }

    /** pm-b with a wrong password: it answers every request, CONNECT included, with its own 401. */
    static String refusingProxy() {
        return "http://bob:not-the-password@127.0.0.1:" + proxyB.port();
    }

    String proxy() {
        return "http://pool:" + TOKEN + "@127.0.0.1:" + server.port();
    }

    String siteUrl(String host, String path) {
        return "http://" + host + ":" + site.httpPort() + path;
    }

    SecretStats stats(String secretId) {
        return manager.engine().stats("pool").stream().filter(s -> s.secretId().equals(secretId)).findFirst()
                .orElseThrow();
    }

    @Test
    void aProxyRefusingConnectIsCooledDownForEverySiteNotJustTheTargetWithHostScopedHealth() throws Exception {
        // given pm-bad answers CONNECT with its own 401 (tinyproxy's answer to wrong credentials; a ban status here),
        // and health is kept per site
        start(",\"retry\":{\"max_retries\":1},\"health\":{\"ban_statuses\":[401],\"scope\":\"host\"}",
                orderedSecrets("pm-bad", refusingProxy(), "pm-a", proxyA.url()));

        // when tunnels to the TLS site open until pm-bad has been asked (round robin: within two)
        for (int i = 0; i < 2; i++) {
            Curl tunnel = Curl.run("-k", "-x", proxy(), "https://127.0.0.1:" + site.httpsPort() + "/t?i=" + i);
            assertThat(tunnel.status()).isEqualTo(200);
        }

        // then pm-bad is out for the whole endpoint, not only for the site it was asked to reach
        assertThat(stats("pm-bad").cause()).isNotEqualTo(UnavailableCause.READY);
        assertThat(server.siteUnavailable("pool")).doesNotContainKey("127.0.0.1");
        // and a request to another site goes straight to pm-a, without first trying pm-bad
        for (int i = 0; i < 3; i++) {
            Curl r = Curl.run("-x", proxy(), siteUrl("localhost", "/other?i=" + i));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-a");
            assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("1");
        }
    }

    @Test
    void aSiteBanStaysPerSiteWithHostScopedHealth() throws Exception {
        // given a site (localhost) that bans pm-a with 403, and health kept per site
        site.answerByProxy.put("localhost pm-a", Map.entry(403, "banned here"));
        start(",\"retry\":{\"max_retries\":1},\"health\":{\"ban_statuses\":[403],\"scope\":\"host\"}",
                orderedSecrets("pm-a", proxyA.url(), "pm-b", proxyB.urlWithCredentials()));

        // when requests go to localhost until pm-a was banned there
        for (int i = 0; i < 2; i++) {
            assertThat(Curl.run("-x", proxy(), siteUrl("localhost", "/b?i=" + i)).status()).isEqualTo(200);
        }

        // then pm-a stays usable for the endpoint and is out for localhost only
        assertThat(stats("pm-a").cause()).isEqualTo(UnavailableCause.READY);
        assertThat(server.siteUnavailable("pool").get("localhost")).extracting(SecretStats::secretId)
                .containsExactly("pm-a");
    }

    @Test
    void aProxyTheSiteReportsOutOfQuotaIsNotUsedBeforeTheReset() throws Exception {
        // given a site reporting that requests through pm-a have no quota left for a minute
        long reset = Instant.now().plusSeconds(60).getEpochSecond();
        site.headersByProxy.put("pm-a", Map.of("X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0",
                "X-RateLimit-Reset", Long.toString(reset)));
        start("", orderedSecrets("pm-a", proxyA.url(), "pm-b", proxyB.urlWithCredentials()));

        // when requests go through the port until pm-a has carried one (round robin: within two)
        for (int i = 0; i < 2; i++) {
            assertThat(Curl.run("-x", proxy(), siteUrl("127.0.0.1", "/q?i=" + i)).status()).isEqualTo(200);
        }
        site.requests.clear();
        for (int i = 0; i < 4; i++) {
            Curl r = Curl.run("-x", proxy(), siteUrl("127.0.0.1", "/q?i=" + (i + 2)));
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
        }

        // then the site saw the next requests come through pm-b only
        assertThat(site.requests).hasSize(4).allSatisfy(h -> assertThat(h.get("via")).contains("pm-b")
                .doesNotContain("pm-a"));
        // and the engine holds what the site reported, until its reset
        SecretStats.UpstreamQuotaView upstream = stats("pm-a").upstream();
        assertThat(upstream).isNotNull();
        assertThat(upstream.remaining()).isZero();
        assertThat(upstream.limit()).isEqualTo(100);
        assertThat(upstream.resetAt()).isEqualTo(Instant.ofEpochSecond(reset));
        // and pm-a's request-log document carries the reported quota
        await().atMost(Duration.ofSeconds(10)).until(() -> requestLog.entries().size() >= 6);
        RequestLogEntry logged = requestLog.entries().stream().filter(e -> "pm-a".equals(e.proxyId())).findFirst()
                .orElseThrow();
        assertThat(logged.upstreamRemaining()).isZero();
        assertThat(logged.upstreamLimit()).isEqualTo(100L);
        assertThat(logged.upstreamReset()).isEqualTo(Instant.ofEpochSecond(reset));
        assertThat(requestLog.entries()).filteredOn(e -> "pm-b".equals(e.proxyId()))
                .allSatisfy(e -> assertThat(e.upstreamRemaining()).isNull());
    }

    @Test
    void aQuotaReportedByOneSiteHoldsForThatSiteOnlyWithHostScopedLimits() throws Exception {
        // given localhost reporting no quota left through pm-a, and limits kept per site
        long reset = Instant.now().plusSeconds(60).getEpochSecond();
        site.headersByProxy.put("localhost pm-a", Map.of("X-RateLimit-Remaining", "0",
                "X-RateLimit-Reset", Long.toString(reset)));
        start(",\"limits\":[{\"requests\":100,\"per\":\"1m\",\"scope\":\"host\"}]",
                orderedSecrets("pm-a", proxyA.url(), "pm-b", proxyB.urlWithCredentials()));

        // when requests go to localhost until pm-a has carried one
        for (int i = 0; i < 2; i++) {
            assertThat(Curl.run("-x", proxy(), siteUrl("localhost", "/q?i=" + i)).status()).isEqualTo(200);
        }

        // then localhost is served by pm-b only, while 127.0.0.1 still gets both proxies
        for (int i = 2; i < 5; i++) {
            assertThat(Curl.run("-x", proxy(), siteUrl("localhost", "/q?i=" + i)).header("X-Proxy-Manager-Secret"))
                    .isEqualTo("pm-b");
        }
        Set<String> elsewhere = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            elsewhere.add(Curl.run("-x", proxy(), siteUrl("127.0.0.1", "/q?i=" + i)).header("X-Proxy-Manager-Secret"));
        }
        assertThat(elsewhere).containsExactlyInAnyOrder("pm-a", "pm-b");
        assertThat(server.siteUnavailable("pool").get("localhost")).extracting(SecretStats::secretId)
                .containsExactly("pm-a");
    }

    private static Map<String, String> orderedSecrets(String id1, String url1, String id2, String url2) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put(id1, url1);
        m.put(id2, url2);
        return m;
    }
}
