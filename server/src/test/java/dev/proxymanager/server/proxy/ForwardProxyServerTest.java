package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.config.CidrBlock;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.testsupport.proxy.Tinyproxy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The proxy port end to end: real curl and JDK clients, real tinyproxy upstreams, a real loopback site. */
class ForwardProxyServerTest {

    static final String TOKEN = "proxy-token-for-tests-0123";

    @TempDir
    static Path dir;
    static TestSite site;
    static Tinyproxy proxyA;
    static Tinyproxy proxyB;

    ProxyManager manager;
    ForwardProxyServer server;
    InMemoryRequestLog requestLog;
    InMemoryUsageStore usageStore;

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
        site.requests.clear();
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    /** A proxy port over endpoint "pool" (round robin over pm-a and pm-b) allowed to reach 127.0.0.1 only. */
    ForwardProxyServer start(String endpointExtras, List<CidrBlock> trusted, String... upstreams) throws Exception {
        StringBuilder secrets = new StringBuilder();
        for (String u : upstreams) {
            Tinyproxy t = u.equals("pm-a") ? proxyA : proxyB;
            secrets.append(secrets.isEmpty() ? "" : ",").append("{\"id\":\"").append(u).append("\",\"value\":\"")
                    .append(t.urlWithCredentials()).append("\"}");
        }
        String json = "{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":\"round-robin\","
                + "\"allowed_targets\":[\"127.0.0.1\",\"*.example.com\"],"
                + "\"timeouts\":{\"connect\":\"2s\",\"read\":\"10s\"}" + endpointExtras + ",\"secrets\":[" + secrets
                + "]},\"keys\":{\"type\":\"key\",\"base_url\":\"http://127.0.0.1:1\",\"secrets\":[\"k-1\"]}}}";
        requestLog = new InMemoryRequestLog();
        manager = ProxyManager.builder().secrets(SecretsConfig.parse(json, Map.of()))
                .usageStore(usageStore = new InMemoryUsageStore()).requestLog(requestLog).maxWait(Duration.ZERO).build();
        ForwardProxySettings settings = new ForwardProxySettings(0, TOKEN, trusted, trusted.isEmpty() ? null : "pool",
                Duration.ofMinutes(10));
        server = new ForwardProxyServer("127.0.0.1", settings, manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                Duration.ofSeconds(30), 1024 * 1024, 64).start();
        return server;
    }

    String proxy(String user) {
        return "http://" + user + ":" + TOKEN + "@127.0.0.1:" + server.port();
    }

    String siteUrl(String path) {
        return "http://127.0.0.1:" + site.httpPort() + path;
    }

    @Test
    void plainRequestsGoThroughRotatedUpstreamProxiesWithoutProxyHeadersReachingTheSite() throws Exception {
        // given a proxy port over two real upstream proxies, one with credentials
        start("", List.of(), "pm-a", "pm-b");

        // when curl sends four requests through it, naming a session in a header
        Set<String> secrets = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            Curl r = Curl.run("-x", proxy("pool"), "-H", "Proxy-Connection: keep-alive", "-H", "Connection: x-drop-me",
                    "-H", "X-Drop-Me: 1", siteUrl("/hello?i=" + i));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).startsWith("site /hello?i=" + i);
            assertThat(r.header("X-Proxy-Manager-Attempts")).isEqualTo("1");
            assertThat(r.header("X-Cache")).isEqualTo("MISS");
            secrets.add(r.header("X-Proxy-Manager-Secret"));
            assertThat(r.headers()).doesNotContain("upstream-pass-5678").doesNotContain(TOKEN);
        }

        // then both upstreams carried traffic, named by id, and no proxy or hop-by-hop header reached the site
        assertThat(secrets).containsExactlyInAnyOrder("pm-a", "pm-b");
        assertThat(site.requests).hasSize(4).allSatisfy(h -> {
            assertThat(h).doesNotContainKeys("proxy-authorization", "proxy-connection", "x-drop-me");
            assertThat(h.get("via")).contains("proxy-manager");
        });
        assertThat(site.requests.stream().map(h -> h.get("via")).toList())
                .anySatisfy(v -> assertThat(v).contains("pm-a"))
                .anySatisfy(v -> assertThat(v).contains("pm-b"));
        // each entry is written once its response is relayed: the last may trail the client's read by a moment
        await().atMost(Duration.ofSeconds(10)).until(() -> requestLog.entries().size() >= 4);
        assertThat(requestLog.entries()).hasSize(4).allSatisfy(e -> {
            assertThat(e.host()).isEqualTo("127.0.0.1");
            assertThat(e.outcome()).isEqualTo(OutcomeKind.SUCCESS);
        });
    }

    @Test
    void connectTunnelReachesLoopbackTlsSiteThroughTheUpstreamProxy() throws Exception {
        // given
        start("", List.of(), "pm-b");

        // when curl opens a CONNECT tunnel and speaks TLS through it
        Curl r = Curl.run("-k", "-x", proxy("pool"), "https://127.0.0.1:" + site.httpsPort() + "/secure");

        // then the site answered over TLS, through the upstream proxy with credentials
        assertThat(r.connectStatus()).isEqualTo(200);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("site /secure");
        assertThat(site.requests).singleElement().satisfies(h -> assertThat(h).doesNotContainKey("via"));
        // and the tunnel is one request-log document once closed, with its bytes
        await().atMost(Duration.ofSeconds(10)).until(() -> requestLog.entries().stream()
                .anyMatch(e -> e.method().equals("CONNECT")));
        RequestLogEntry tunnel = requestLog.entries().stream().filter(e -> e.method().equals("CONNECT")).findFirst()
                .orElseThrow();
        assertThat(tunnel.host()).isEqualTo("127.0.0.1");
        assertThat(tunnel.proxyId()).isEqualTo("pm-b");
        assertThat(tunnel.bytes()).isGreaterThan(500L);
        assertThat(tunnel.outcome()).isEqualTo(OutcomeKind.SUCCESS);
        assertThat(server.metrics().openTunnels()).isZero();
    }

    @Test
    void missingOrWrongCredentialsAre407WithProxyAuthenticate() throws Exception {
        start("", List.of(), "pm-a");
        Curl none = Curl.run("-x", "http://127.0.0.1:" + server.port(), siteUrl("/x"));
        assertThat(none.status()).isEqualTo(407);
        assertThat(none.header("Proxy-Authenticate")).isEqualTo("Basic realm=\"proxy-manager\"");
        assertThat(none.header("X-Proxy-Manager-Error")).isEqualTo("authentication_required");

        Curl wrong = Curl.run("-x", "http://pool:not-the-token-000000@127.0.0.1:" + server.port(), siteUrl("/x"));
        assertThat(wrong.status()).isEqualTo(407);

        Curl unknownEndpoint = Curl.run("-x", proxy("nope"), siteUrl("/x"));
        assertThat(unknownEndpoint.status()).isEqualTo(407);
        assertThat(unknownEndpoint.header("X-Proxy-Manager-Error")).isEqualTo("unknown_endpoint");

        Curl keyEndpoint = Curl.run("-x", proxy("keys"), siteUrl("/x"));
        assertThat(keyEndpoint.status()).isEqualTo(407);

        Curl connect = Curl.run("-k", "-x", "http://127.0.0.1:" + server.port(),
                "https://127.0.0.1:" + site.httpsPort() + "/x");
        assertThat(connect.connectStatus()).isEqualTo(407);
        assertThat(site.requests).isEmpty();
    }

    @Test
    void trustedClientNeedsNoCredentialsAndUsesTheDefaultEndpoint() throws Exception {
        start("", List.of(CidrBlock.parse("127.0.0.0/8")), "pm-a");
        Curl r = Curl.run("-x", "http://127.0.0.1:" + server.port(), siteUrl("/trusted"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-a");
    }

    @Test
    void targetsOutsideAllowedTargetsOrOnPrivateAddressesAreRefusedWith403() throws Exception {
        start("", List.of(), "pm-a");
        // a loopback address other than the listed 127.0.0.1
        Curl byName = Curl.run("-x", proxy("pool"), "http://127.0.0.2:" + site.httpPort() + "/x");
        assertThat(byName.status()).isEqualTo(403);
        assertThat(byName.header("X-Proxy-Manager-Error")).isEqualTo("target_refused");
        assertThat(byName.body()).contains("loopback or private");
        // a private address
        Curl privateAddress = Curl.run("-x", proxy("pool"), "http://10.1.2.3/x");
        assertThat(privateAddress.status()).isEqualTo(403);
        // the metadata address, through CONNECT
        Curl metadata = Curl.run("-x", proxy("pool"), "-p", "http://169.254.169.254:80/latest/meta-data");
        assertThat(metadata.connectStatus()).isEqualTo(403);
        assertThat(site.requests).isEmpty();
    }

    @Test
    void siteBanningOneProxyMovesTheRequestToAnotherAndCoolsTheBannedOneDown() throws Exception {
        // given a site that answers 403 to whatever comes through pm-a
        site.answerByProxy.put("pm-a", Map.entry(403, "banned"));
        start(",\"retry\":{\"max_retries\":2},\"health\":{\"ban_statuses\":[403]}", List.of(), "pm-a", "pm-b");

        // when requests go through the port
        for (int i = 0; i < 3; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("/ban?i=" + i));
            // then each is answered by pm-b
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
        }
        // and pm-a, banned once, is not tried again while it cools down
        assertThat(site.requests.stream().filter(h -> h.get("via").contains("pm-a")).count()).isEqualTo(1);
    }

    @Test
    void captchaPageServedWith200BansTheProxyAndTheNextRequestMovesToAnother() throws Exception {
        // given a site answering pm-a with a captcha page under 200, longer than the 64 KiB the ban scan reads
        String captcha = "<html><title>Are you a robot?</title>" + "x".repeat(100_000) + "</html>";
        site.answerByProxy.put("pm-a", Map.entry(200, captcha));
        start(",\"retry\":{\"max_retries\":0},\"health\":{\"ban_body_pattern\":\"(?i)are you a robot\"}",
                List.of(), "pm-a", "pm-b");

        // when requests go through the port until pm-a has answered one (round robin: within two)
        Curl first = Curl.run("-x", proxy("pool"), siteUrl("/c?i=0"));
        Curl second = Curl.run("-x", proxy("pool"), siteUrl("/c?i=1"));
        Curl blocked = first.header("X-Proxy-Manager-Secret").equals("pm-a") ? first : second;

        // then the captcha page was relayed whole, as the site sent it
        assertThat(blocked.status()).isEqualTo(200);
        assertThat(blocked.body()).isEqualTo(captcha);
        // and the next requests all move to pm-b while pm-a cools down
        for (int i = 2; i < 5; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("/c?i=" + i));
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
        }
        assertThat(requestLog.entries()).filteredOn(e -> "pm-a".equals(e.proxyId()))
                .extracting(e -> e.outcome().wireName()).containsExactly("banned");
    }

    @Test
    void killedUpstreamProxyMovesTrafficToTheOther() throws Exception {
        // given an upstream proxy that is down (a fresh tinyproxy, stopped)
        Tinyproxy dead = Tinyproxy.start("pm-dead");
        String deadUrl = dead.url();
        dead.close();
        String json = ",\"retry\":{\"max_retries\":2}";
        start(json, List.of(), "pm-a");
        manager.replaceSecrets(SecretsConfig.parse("{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":"
                + "\"round-robin\",\"allowed_targets\":[\"127.0.0.1\"],\"retry\":{\"max_retries\":2},\"timeouts\":{\"connect\":\"2s\",\"read\":\"10s\"},"
                + "\"secrets\":[{\"id\":\"pm-dead\",\"value\":\"" + deadUrl + "\"},{\"id\":\"pm-a\",\"value\":\""
                + proxyA.url() + "\"}]}}}", Map.of()));

        // when plain requests and a tunnel go through the port
        for (int i = 0; i < 3; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("/alive?i=" + i));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-a");
        }
        Curl tunnel = Curl.run("-k", "-x", proxy("pool"), "https://127.0.0.1:" + site.httpsPort() + "/alive");
        assertThat(tunnel.status()).isEqualTo(200);
    }

    @Test
    void noUpstreamReachableIs502MarkedAsTheProxysOwnAnswer() throws Exception {
        Tinyproxy dead = Tinyproxy.start("pm-dead");
        String deadUrl = dead.url();
        dead.close();
        start("", List.of(), "pm-a");
        manager.replaceSecrets(SecretsConfig.parse("{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"allowed_targets\":[\"127.0.0.1\"],"
                + "\"secrets\":[{\"id\":\"pm-dead\",\"value\":\"" + deadUrl + "\"}],\"retry\":{\"max_retries\":0}}}}", Map.of()));
        Curl r = Curl.run("-x", proxy("pool"), siteUrl("/x"));
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("X-Proxy-Manager-Error")).isEqualTo("upstream_failed");
        // the dead proxy now cools down: no proxy free → 429 with Retry-After
        Curl next = Curl.run("-x", proxy("pool"), siteUrl("/x"));
        assertThat(next.status()).isEqualTo(429);
        assertThat(next.header("X-Proxy-Manager-Error")).isEqualTo("no_proxy_available");
        assertThat(next.header("Retry-After")).isNotNull();
    }

    @Test
    void sessionStaysOnItsUpstreamProxy() throws Exception {
        start("", List.of(), "pm-a", "pm-b");
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            Curl r = Curl.run("-x", proxy("pool,session=s1"), siteUrl("/s?i=" + i));
            assertThat(r.header("X-Proxy-Manager-Session")).isEqualTo("s1");
            used.add(r.header("X-Proxy-Manager-Secret"));
        }
        assertThat(used).hasSize(1);
    }

    @Test
    void aProxyHoldingMaxSessionsPerProxyTakesNoNewSessionAndTheNextGoesElsewhereOrWaits() throws Exception {
        // given two upstream proxies that take one session each
        start(",\"max_sessions_per_proxy\":1", List.of(), "pm-a", "pm-b");

        // when three sessions start
        Curl s1 = Curl.run("-x", proxy("pool,session=s1"), siteUrl("/m?s=1"));
        Curl s2 = Curl.run("-x", proxy("pool,session=s2"), siteUrl("/m?s=2"));
        Curl s3 = Curl.run("-x", proxy("pool,session=s3"), siteUrl("/m?s=3"));

        // then the first two are on different proxies, the third is told to come back
        assertThat(Set.of(s1.header("X-Proxy-Manager-Secret"), s2.header("X-Proxy-Manager-Secret")))
                .containsExactlyInAnyOrder("pm-a", "pm-b");
        assertThat(s3.status()).isEqualTo(429);
        assertThat(s3.header("X-Proxy-Manager-Error")).isEqualTo("no_proxy_available");
        assertThat(s3.body()).contains("max_sessions_per_proxy");
        // and a bound session and a request without a session still get through
        assertThat(Curl.run("-x", proxy("pool,session=s1"), siteUrl("/m?s=1")).header("X-Proxy-Manager-Secret"))
                .isEqualTo(s1.header("X-Proxy-Manager-Secret"));
        assertThat(Curl.run("-x", proxy("pool"), siteUrl("/m")).status()).isEqualTo(200);
        // and the grants the full proxies gave back cost nothing: one use per request carried
        assertThat(manager.stats("pool").stream().mapToLong(st -> st.totalUses()).sum())
                .isEqualTo(site.requests.size());
    }

    @Test
    void aSessionWhoseProxyIsBannedMovesAndTheResponseSaysSo() throws Exception {
        // given a session bound to whichever proxy it got first
        start(",\"retry\":{\"max_retries\":2},\"health\":{\"ban_statuses\":[403]}", List.of(), "pm-a", "pm-b");
        Curl first = Curl.run("-x", proxy("pool,session=s1"), siteUrl("/mv?i=0"));
        String bound = first.header("X-Proxy-Manager-Secret");
        String other = bound.equals("pm-a") ? "pm-b" : "pm-a";

        // when the site bans that proxy
        site.answerByProxy.put(bound, Map.entry(403, "banned"));
        Curl moved = Curl.run("-x", proxy("pool,session=s1"), siteUrl("/mv?i=1"));

        // then the session moves to the other proxy, says so, and stays there
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.header("X-Proxy-Manager-Secret")).isEqualTo(other);
        assertThat(moved.header("X-Proxy-Manager-Session-Moved")).isEqualTo("true");
        Curl after = Curl.run("-x", proxy("pool,session=s1"), siteUrl("/mv?i=2"));
        assertThat(after.header("X-Proxy-Manager-Secret")).isEqualTo(other);
        assertThat(after.header("X-Proxy-Manager-Session-Moved")).isNull();
    }

    String siteUrl(String host, String path) {
        return "http://" + host + ":" + site.httpPort() + path;
    }

    @Test
    void aHostScopedLimitHoldsPerProxyPerSite() throws Exception {
        // given two proxies allowed one request a minute each per site (localhost and 127.0.0.1 are two sites)
        start(",\"limits\":[{\"requests\":1,\"per\":\"1m\",\"scope\":\"host\"}]",
                List.of(), "pm-a", "pm-b");

        // when three requests go to one site
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("/l?i=" + i));
            assertThat(r.status()).isEqualTo(200);
            used.add(r.header("X-Proxy-Manager-Secret"));
        }
        Curl third = Curl.run("-x", proxy("pool"), siteUrl("/l?i=2"));

        // then each proxy served it once and the third is the proxy's own 429 with Retry-After
        assertThat(used).containsExactlyInAnyOrder("pm-a", "pm-b");
        assertThat(third.status()).isEqualTo(429);
        assertThat(third.header("X-Proxy-Manager-Error")).isEqualTo("no_proxy_available");
        assertThat(third.header("Retry-After")).isNotNull();
        assertThat(third.body()).contains("127.0.0.1");
        // and the other site still gets one request through each proxy
        for (int i = 0; i < 2; i++) {
            assertThat(Curl.run("-x", proxy("pool"), siteUrl("localhost", "/l?i=" + i)).status()).isEqualTo(200);
        }
        assertThat(site.requests).hasSize(4);
    }

    @Test
    void aRouteBucketHoldsBackItsRequestsOnlyAndCostsCountOnThePlainPath() throws Exception {
        // given one proxy allowed 10 uses a minute, 1 a minute for /search/*, and /export costing 5
        start(",\"limits\":[{\"requests\":10,\"per\":\"1m\"},"
                + "{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/search/*\"}}],"
                + "\"costs\":[{\"match\":{\"path\":\"/export\"},\"cost\":5}]", List.of(), "pm-a");

        // when two searches, then other requests go through the same proxy
        Curl search = Curl.run("-x", proxy("pool"), siteUrl("/search/a"));
        Curl again = Curl.run("-x", proxy("pool"), siteUrl("/search/b"));
        Curl other = Curl.run("-x", proxy("pool"), siteUrl("/items"));
        Curl export = Curl.run("-x", proxy("pool"), siteUrl("/export"));
        Curl overCost = Curl.run("-x", proxy("pool"), siteUrl("/export"));

        // then the second search waits for its bucket while the others go on; the export counts 5 of the 10
        assertThat(search.status()).isEqualTo(200);
        assertThat(again.status()).isEqualTo(429);
        assertThat(again.body()).contains("route * /search/*: 1 request/60 s");
        assertThat(other.status()).isEqualTo(200);
        assertThat(export.status()).isEqualTo(200);
        assertThat(overCost.status()).as("7 of 10 used: 5 more do not fit").isEqualTo(429);
        assertThat(manager.stats("pool").getFirst().windows().getFirst().uses()).isEqualTo(7);
        assertThat(site.requests).hasSize(3);
    }

    @Test
    void aClientSetsARequestsCostInXProxyManagerCostAndBadOrTooLargeCostsAre400() throws Exception {
        // given one proxy allowed 10 uses a minute
        start(",\"limits\":[{\"requests\":10,\"per\":\"1m\"}]", List.of(), "pm-a");

        // when a request says it costs 4, one gives a cost that is no number, one a cost above the limit
        Curl weighted = Curl.run("-x", proxy("pool"), "-H", "X-Proxy-Manager-Cost: 4", siteUrl("/w"));
        Curl bad = Curl.run("-x", proxy("pool"), "-H", "X-Proxy-Manager-Cost: lots", siteUrl("/w"));
        Curl tooLarge = Curl.run("-x", proxy("pool"), "-H", "X-Proxy-Manager-Cost: 11", siteUrl("/w"));

        // then the first counts 4 and its header never reaches the site
        assertThat(weighted.status()).isEqualTo(200);
        assertThat(manager.stats("pool").getFirst().windows().getFirst().uses()).isEqualTo(4);
        assertThat(site.requests).hasSize(1);
        assertThat(site.requests.getFirst().keySet()).noneMatch(h -> h.equalsIgnoreCase("X-Proxy-Manager-Cost"));
        // and the others are the proxy's own 400s, naming the problem, with nothing counted or sent
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.header(ProxyRefusal.ERROR_HEADER)).isEqualTo("bad_cost");
        assertThat(bad.body()).contains("X-Proxy-Manager-Cost");
        assertThat(tooLarge.status()).isEqualTo(400);
        assertThat(tooLarge.header(ProxyRefusal.ERROR_HEADER)).isEqualTo("cost_too_large");
        assertThat(tooLarge.header("Retry-After")).isNull();
        assertThat(manager.stats("pool").getFirst().windows().getFirst().uses()).isEqualTo(4);
        assertThat(site.requests).hasSize(1);
    }

    @Test
    void aProxyBannedByOneSiteKeepsServingTheOthersWithHostScopedHealth() throws Exception {
        // given a site (localhost) that bans pm-a, and health scoped per host
        site.answerByProxy.put("localhost pm-a", Map.entry(403, "banned here"));
        start(",\"retry\":{\"max_retries\":0},"
                + "\"health\":{\"ban_statuses\":[403],\"scope\":\"host\"}", List.of(), "pm-a", "pm-b");

        // when requests go to localhost until pm-a has been banned there (round robin: within two)
        Curl first = Curl.run("-x", proxy("pool"), siteUrl("localhost", "/b?i=0"));
        if (!"pm-a".equals(first.header("X-Proxy-Manager-Secret"))) {
            first = Curl.run("-x", proxy("pool"), siteUrl("localhost", "/b?i=1"));
        }
        assertThat(first.status()).isEqualTo(403);

        // then localhost is served by pm-b only, while 127.0.0.1 still gets both proxies
        for (int i = 2; i < 5; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("localhost", "/b?i=" + i));
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
        }
        Set<String> elsewhere = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            Curl r = Curl.run("-x", proxy("pool"), siteUrl("/b?i=" + i));
            assertThat(r.status()).isEqualTo(200);
            elsewhere.add(r.header("X-Proxy-Manager-Secret"));
        }
        assertThat(elsewhere).containsExactlyInAnyOrder("pm-a", "pm-b");
        // and the per-site cooldown is what /api/v1/proxies shows for the endpoint
        assertThat(server.siteUnavailable("pool")).containsOnlyKeys("localhost");
        assertThat(server.siteUnavailable("pool").get("localhost")).extracting(s -> s.secretId())
                .containsExactly("pm-a");
    }

    @Test
    void plainRequestsThroughThePortAreServedConcurrently() throws Exception {
        // given a site that answers /together only once four requests are in at once
        start("", List.of(), "pm-a", "pm-b");

        // when four clients send at the same time
        List<java.util.concurrent.Future<Curl>> answers = new java.util.ArrayList<>();
        try (var clients = java.util.concurrent.Executors.newFixedThreadPool(TestSite.TOGETHER)) {
            for (int i = 0; i < TestSite.TOGETHER; i++) {
                int n = i;
                answers.add(clients.submit(() -> Curl.run("-x", proxy("pool"), siteUrl("/together?i=" + n))));
            }
            for (var a : answers) {
                assertThat(a.get().status()).isEqualTo(200);
            }
        }

        // then all four were at the site together: the port did not serialize them
        assertThat(site.maxTogether.get()).isEqualTo(TestSite.TOGETHER);
    }

    @Test
    void jdkHttpClientUsesThePortWithProxyCredentials() throws Exception {
        start("", List.of(), "pm-a");
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", server.port())))
                .authenticator(new Authenticator() {
                    @Override
                    protected PasswordAuthentication getPasswordAuthentication() {
                        return getRequestorType() == RequestorType.PROXY
                                ? new PasswordAuthentication("pool", TOKEN.toCharArray()) : null;
                    }
                })
                .build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(siteUrl("/jdk"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("site /jdk");
        assertThat(r.headers().firstValue("X-Proxy-Manager-Secret")).hasValue("pm-a");
    }

    /** Total uses the store holds for {@code secret} of (site) endpoint {@code endpoint}. */
    long storedUses(String endpoint, String secret) {
        return usageStore.usage(endpoint, new StoreCandidate(secret, List.of()), LeaseTerms.NONE,
                SystemClock.INSTANCE.nanoTime()).totalUses();
    }

    @Test
    void aSiteGrantTheEndpointDoesNotShareIsGivenBackAndCostsTheSiteNothing() throws Exception {
        // given two proxies allowed one request a minute overall and ten per site; pm-a serves the first site
        start(",\"limits\":[{\"requests\":1,\"per\":\"1m\"},{\"requests\":10,\"per\":\"1m\",\"scope\":\"host\"}]",
                List.of(), "pm-a", "pm-b");
        Curl first = Curl.run("-x", proxy("pool"), siteUrl("/g?i=0"));
        assertThat(first.header("X-Proxy-Manager-Secret")).isEqualTo("pm-a");

        // when another site's rotation picks pm-a, which the endpoint refuses (its minute is used): pm-b it is
        Curl second = Curl.run("-x", proxy("pool"), siteUrl("localhost", "/g?i=1"));

        // then the site's grant of pm-a was given back: each proxy counts exactly the request it carried
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
        assertThat(storedUses(SiteScopes.siteName("pool", "localhost"), "pm-a")).isZero();
        assertThat(storedUses(SiteScopes.siteName("pool", "localhost"), "pm-b")).isEqualTo(1);
        assertThat(storedUses(SiteScopes.siteName("pool", "127.0.0.1"), "pm-a")).isEqualTo(1);
        assertThat(manager.stats("pool")).extracting(st -> st.totalUses()).containsExactly(1L, 1L);
        assertThat(site.requests).hasSize(2);
    }
}
