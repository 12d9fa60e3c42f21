package dev.proxymanager.server.dashboard;

import dev.proxymanager.server.security.BearerTokenAuth;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.SecretEvent;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium, served by a real Jetty, over a real Elasticsearch holding a request
 * log: what an operator sees.
 */
@ExtendWith(ElasticsearchExtension.class)
class DashboardPageTest {
    private static final String TOKEN = "admin-token-5f1c9e27b3";
    private static final int REQUESTS = 200;
    private static final Path SCREENSHOT = Path.of("target", "dashboard-screenshot.png");

    @TempDir
    static Path profile;

    private static final List<SecretStatus> LIVE = new CopyOnWriteArrayList<>(List.of(
            new SecretStatus("github", "gh-key-1", UnavailableCause.READY, 12, 30, Duration.ofMinutes(1)),
            new SecretStatus("github", "gh-key-2", UnavailableCause.LEASED, 25, 30, Duration.ofMinutes(1)),
            new SecretStatus("github", "gh-key-3", UnavailableCause.COOLING_DOWN, 30, 30, Duration.ofMinutes(1)),
            new SecretStatus("twitter", "tw-key-1", UnavailableCause.READY, 140, 900, Duration.ofMinutes(15)),
            new SecretStatus("twitter", "tw-key-2", UnavailableCause.REMOVED, 0, 900, Duration.ofMinutes(15)),
            new SecretStatus("maps", "px-10.0.*.*:8080", UnavailableCause.READY, 4, 60, Duration.ofMinutes(1)),
            new SecretStatus("github", "gh-key-4", UnavailableCause.COOLING_DOWN, 3, 30, Duration.ofMinutes(1),
                    new SecretStats.UpstreamQuotaView("core", 5000, 0, Instant.parse("2026-12-05T01:00:00Z"),
                            Instant.parse("2026-12-05T00:10:00Z"))),
            nearItsMinuteLimit("search", "se-key-1"),
            new SecretStatus("github", "gh-key-5", UnavailableCause.READY, 40, 5000, Duration.ofHours(1), null,
                    List.of(new SecretStatus.RouteWindow("* /search/*", 30, 30, Duration.ofMinutes(1)))),
            new SecretStatus("github", "gh-key-6", UnavailableCause.READY, 12, 5000, Duration.ofHours(1), null,
                    List.of(new SecretStatus.RouteWindow("* /search/*", 2, 30, Duration.ofMinutes(1),
                            new SecretStats.UpstreamQuotaView("", 30, 0, Instant.parse("2026-12-05T00:11:00Z"),
                                    Instant.parse("2026-12-05T00:10:20Z")))))));

    /** A secret at 26 of 500 per 15 min and 26 of 30 per minute, as the engine reports it. */
    private static SecretStatus nearItsMinuteLimit(String endpoint, String id) {
        List<SecretStats.WindowUsage> windows = List.of(
                new SecretStats.WindowUsage(LimitConfig.of(500, Duration.ofMinutes(15)), 26),
                new SecretStats.WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 26));
        Availability ready = new Availability(0, UnavailableCause.READY);
        return EngineSecretStatuses.toStatus(new SecretStats(endpoint, id, "se…1", windows, 26, 0, 26, 0, 0,
                UnavailableCause.READY, SecretStats.closestToBinding(windows, ready), null, Instant.EPOCH));
    }

    private static ElasticsearchTestNode es;
    private static String index;
    private static List<Map<String, Object>> docs;
    private static DashboardServer server;
    private static HeadlessChromium chromium;

    @BeforeAll
    static void start(ElasticsearchTestNode node) throws Exception {
        es = node;
        index = es.index("requests");
        RequestLogFixture.createIndex(es.client(), index);
        docs = RequestLogFixture.documents(REQUESTS, Instant.now().truncatedTo(ChronoUnit.SECONDS));
        RequestLogFixture.index(es.client(), index, docs);
        Instant eventAt = Instant.now().minusSeconds(60);
        RequestLogFixture.index(es.client(), index, List.of(
                new SecretEvent(eventAt, "server-1", "github", "gh-key-1", "key", SecretEvent.Type.BAN,
                        eventAt.plusSeconds(2), "ban signal (status 403), backoff 1").toDocument(),
                new SecretEvent(eventAt, "server-1", "github", "gh-key-2", "key", SecretEvent.Type.COOLDOWN,
                        eventAt.plusSeconds(1), "limit reached (status 429)").toDocument()));
        server = new DashboardServer(DashboardHandler.builder()
                .withAccessToken(TOKEN)
                .withHistory(ElasticsearchRequestHistory.builder().withClient(es.client()).withIndex(index).build())
                .withLiveSecrets(() -> List.copyOf(LIVE))
                .withRefreshInterval(Duration.ofSeconds(1))
                .build());
        chromium = new HeadlessChromium(profile, 1440, 1720);
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void openDashboard() {
        chromium.driver().get(server.dashboardUrl() + "?token=" + TOKEN);
        waitForSummary();
    }

    @Test
    void showsTheIndexedTrafficInNumbersAndChartsWithoutConsoleErrors() throws Exception {
        // given the request log of 200 requests from the fixture, when the page has loaded its summary
        assertThat(text("stat-total")).isEqualTo("200");
        assertThat(text("stat-cache-hit-ratio")).isEqualTo("35.3%"); // 60 hits / (60 hit + 100 miss + 10 stale)
        // calls answered from the cache were answered: failed counts upstream attempts that did not succeed
        assertThat(text("stat-failed")).isEqualTo(Long.toString(
                docs.stream().filter(d -> !"success".equals(d.get(LogFields.OUTCOME))).count()));
        assertThat(text("stat-p50")).isEqualTo("100 ms");
        assertThat(text("stat-p95")).isEqualTo("400 ms");
        assertThat(text("stat-p99")).isEqualTo("2,000 ms");

        // then every chart is drawn with the indexed data
        for (String canvas : List.of("chart-requests", "chart-cache", "chart-status", "chart-outcomes", "chart-latency",
"chart-events", "chart-hosts", "chart-site-bans")) {
            WebElement element = chromium.driver().findElement(By.id(canvas));
            assertThat(element.getSize().getHeight()).as(canvas + " height").isGreaterThan(100);
        }
        Map<String, Long> perEndpoint = RequestLogFixture.countBy(docs, LogFields.ENDPOINT);
        assertThat(chartTotals("chart-requests")).isEqualTo(Map.of(
                "github", perEndpoint.get("github"), "twitter", perEndpoint.get("twitter"), "maps", perEndpoint.get("maps")));
        assertThat(chartSlices("chart-cache")).isEqualTo(Map.of("hit", 60L, "miss", 100L, "stale", 10L, "bypass", 30L));
        assertThat(chartSlices("chart-status")).isEqualTo(RequestLogFixture.upstreamStatuses(docs));
        assertThat(chartSlices("chart-outcomes")).isEqualTo(RequestLogFixture.countBy(docs, LogFields.OUTCOME));
        assertThat(chartTotals("chart-latency").keySet()).containsExactlyInAnyOrder("p50", "p95", "p99");
        assertThat(chartTotals("chart-events")).isEqualTo(Map.of("ban", 1L, "cooldown", 1L));
        assertThat(chartSlices("chart-hosts")).isEqualTo(RequestLogFixture.countBy(docs, LogFields.HOST));
        assertThat(chartSlices("chart-site-bans")).isEmpty(); // the fixture's log has no bans

        assertThat(chromium.severeLogs()).isEmpty();
        assertThat(bannerShown("history-banner")).isFalse();
        assertThat(chromium.driver().findElements(By.cssSelector(".chart-empty")))
                .noneMatch(WebElement::isDisplayed);
        chromium.screenshot(SCREENSHOT);
        assertThat(SCREENSHOT).isNotEmptyFile();
    }

    @Test
    void showsLiveUsageOfEachSecretAgainstItsLimit() {
        List<WebElement> rows = chromium.driver().findElements(By.cssSelector("#secrets-body tr.secret-row"));

        assertThat(rows).hasSize(LIVE.size());
        WebElement cooling = row("gh-key-3");
        assertThat(cooling.findElement(By.className("state")).getText()).isEqualToIgnoringCase("cooling down");
        assertThat(cooling.findElement(By.className("usage-text")).getText()).isEqualTo("30 / 30 per 1 min · cooling down");
        assertThat(row("tw-key-1").findElement(By.className("usage-text")).getText()).isEqualTo("140 / 900 per 15 min");
        // the upstream's own report beside our count: exhausted although we counted 3 of 30
        assertThat(row("gh-key-4").findElement(By.className("upstream-text")).getText())
                .isEqualTo("upstream: 0 / 5000 left (core), resets 01:00:00 UTC");
        assertThat(row("tw-key-1").findElements(By.className("upstream-text"))).isEmpty();
        // a route bucket's own count beside the key's: search full while the key serves other calls
        assertThat(row("gh-key-5").findElement(By.className("usage-text")).getText()).isEqualTo("40 / 5000 per 1 h");
        assertThat(row("gh-key-5").findElement(By.className("route-text")).getText())
                .isEqualTo("route * /search/*: 30 / 30 per 1 min");
        assertThat(row("tw-key-1").findElements(By.className("route-text"))).isEmpty();
        // the upstream's report for the bucket's calls beside the bucket's count: search used up upstream
        assertThat(row("gh-key-6").findElement(By.className("route-text")).getText())
                .isEqualTo("route * /search/*: 2 / 30 per 1 min · upstream: 0 / 30 left, resets 00:11:00 UTC");
        // the binding limit, not the first long window (was "26 / 500 per 15 min")
        assertThat(row("se-key-1").findElement(By.className("usage-text")).getText()).isEqualTo("26 / 30 per 1 min");
        Map<String, Long> perSecret = RequestLogFixture.countBy(docs, LogFields.SECRET_ID);
        assertThat(row("gh-key-1").findElement(By.className("requests-in-range")).getText())
                .isEqualTo(Long.toString(perSecret.get("gh-key-1")));
    }

    @Test
    void refreshesItselfWhenNewTrafficArrives() throws Exception {
        // given a page over a request log of its own, showing 10 requests
        String ownIndex = es.index("requests-refresh");
        RequestLogFixture.createIndex(es.client(), ownIndex);
        RequestLogFixture.index(es.client(), ownIndex, RequestLogFixture.documents(10, Instant.now()));
        List<SecretStatus> live = new CopyOnWriteArrayList<>(List.of(
                new SecretStatus("github", "gh-key-1", UnavailableCause.READY, 12, 30, Duration.ofMinutes(1))));
        try (DashboardServer own = new DashboardServer(DashboardHandler.builder()
                .withAccessToken(TOKEN)
                .withHistory(ElasticsearchRequestHistory.builder().withClient(es.client()).withIndex(ownIndex).build())
                .withLiveSecrets(() -> List.copyOf(live))
                .withRefreshInterval(Duration.ofSeconds(1))
                .build())) {
            chromium.driver().get(own.dashboardUrl() + "?token=" + TOKEN);
            waitForSummary();
            assertThat(text("stat-total")).isEqualTo("10");

            // when 25 more requests are logged, and the engine counts one more use
            RequestLogFixture.index(es.client(), ownIndex, RequestLogFixture.documents(25, Instant.now()));
            live.set(0, new SecretStatus("github", "gh-key-1", UnavailableCause.LEASED, 13, 30, Duration.ofMinutes(1)));

            // then the open page shows them without a reload
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(text("stat-total")).isEqualTo("35");
                assertThat(row("gh-key-1").findElement(By.className("usage-text")).getText()).isEqualTo("13 / 30 per 1 min · leased");
            });
            assertThat(chromium.severeLogs()).isEmpty();
        }
    }

    @Test
    void showsTheLiveStateAndSaysTheHistoryIsUnavailableWhenElasticsearchIsDown() throws Exception {
        // given Elasticsearch that does not answer
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (ElasticsearchClient down = ElasticsearchClient.of(b -> b.host("http://127.0.0.1:" + closedPort));
             DashboardServer own = new DashboardServer(DashboardHandler.builder()
                     .withAccessToken(TOKEN)
                     .withHistory(ElasticsearchRequestHistory.builder().withClient(down).build())
                     .withLiveSecrets(() -> List.copyOf(LIVE))
                     .build())) {
            // when the page is opened
            chromium.driver().get(own.dashboardUrl() + "?token=" + TOKEN);
            waitForLiveState();

            // then it lists the live secrets and says why the charts are empty, without script errors
            assertThat(bannerShown("history-banner")).isTrue();
            assertThat(text("history-banner")).startsWith("History unavailable");
            assertThat(chromium.driver().findElements(By.cssSelector("#secrets-body tr.secret-row"))).hasSize(LIVE.size());
            assertThat(chromium.driver().findElement(By.id("chart-requests")).isDisplayed()).isFalse();
            assertThat(chromium.driver().findElement(By.id("stat-total")).isDisplayed()).isFalse();
            assertThat(row("gh-key-1").findElement(By.className("requests-in-range")).getText()).isEqualTo("–");
            assertThat(chromium.severeLogs()).isEmpty();
            chromium.screenshot(Path.of("target", "dashboard-history-unavailable.png"));
        }
    }

    @Test
    void switchesTheRangeOnDemand() {
        String before = chromium.driver().findElement(By.tagName("body")).getDomAttribute("data-generated-at");

        new Select(chromium.driver().findElement(By.id("range"))).selectByValue("15m");

        new WebDriverWait(chromium.driver(), Duration.ofSeconds(10)).until(d ->
                "15m".equals(d.findElement(By.tagName("body")).getDomAttribute("data-range")));
        // about the newest 100 of the 200 requests (9 s apart): those from the range's start on; both read from
        // one rendering, as the page keeps refreshing
        @SuppressWarnings("unchecked")
        List<String> shown = (List<String>) chromium.driver().executeScript(
                "return [document.body.dataset.rangeFrom, document.getElementById('stat-total').textContent];");
        Instant from = Instant.ofEpochMilli(Long.parseLong(shown.get(0)));
        long expected = docs.stream()
                .filter(doc -> !Instant.parse((String) doc.get(LogFields.TIMESTAMP)).isBefore(from)).count();
        assertThat(expected).isBetween(60L, 101L);
        assertThat(shown.get(1)).isEqualTo(Long.toString(expected));
        assertThat(chromium.driver().findElement(By.tagName("body")).getDomAttribute("data-generated-at")).isNotEqualTo(before);
    }

    @Test
    void keepsTheTokenOutOfTheAddressBarThePageAndTheCookie() {
        assertThat(chromium.driver().getCurrentUrl()).isEqualTo(server.dashboardUrl()).doesNotContain(TOKEN);
        assertThat(chromium.driver().getPageSource()).doesNotContain(TOKEN);
        assertThat(chromium.driver().manage().getCookieNamed(BearerTokenAuth.SESSION_COOKIE))
                .satisfies(cookie -> {
                    assertThat(cookie.getValue()).doesNotContain(TOKEN);
                    assertThat(cookie.isHttpOnly()).isTrue();
                    assertThat(cookie.getSameSite()).isEqualTo("Strict");
                });
    }

    private static void waitForSummary() {
        new WebDriverWait(chromium.driver(), Duration.ofSeconds(20)).until(d ->
                d.findElement(By.tagName("body")).getDomAttribute("data-generated-at") != null
                        && !text("stat-total").equals("–"));
    }

    private static void waitForLiveState() {
        new WebDriverWait(chromium.driver(), Duration.ofSeconds(20)).until(d ->
                d.findElement(By.tagName("body")).getDomAttribute("data-generated-at") != null);
    }

    private static String text(String id) {
        return chromium.driver().findElement(By.id(id)).getText();
    }

    private static boolean bannerShown(String id) {
        return chromium.driver().findElement(By.id(id)).isDisplayed();
    }

    private static WebElement row(String secretId) {
        return chromium.driver().findElement(By.cssSelector("#secrets-body tr[data-secret-id='" + secretId + "']"));
    }

    /** Per dataset label, the sum of its data points, read from the Chart.js instance drawing the canvas. */
    @SuppressWarnings("unchecked")
    private static Map<String, Long> chartTotals(String canvasId) {
        Object totals = chromium.driver().executeScript(
                "var c = Chart.getChart(document.getElementById(arguments[0])); var out = {};"
                        + "c.data.datasets.forEach(function (d) { out[d.label] = d.data.reduce(function (a, v) {"
                        + " return a + (v === null ? 0 : Math.round(v)); }, 0); }); return out;", canvasId);
        return (Map<String, Long>) totals;
    }

    /** Per label, the value of the chart's single dataset. */
    @SuppressWarnings("unchecked")
    private static Map<String, Long> chartSlices(String canvasId) {
        Object slices = chromium.driver().executeScript(
                "var c = Chart.getChart(document.getElementById(arguments[0])); var out = {};"
                        + "c.data.labels.forEach(function (l, i) { out[l] = c.data.datasets[0].data[i]; }); return out;",
                canvasId);
        return (Map<String, Long>) slices;
    }
}
