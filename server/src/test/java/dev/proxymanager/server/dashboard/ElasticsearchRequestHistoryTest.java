package dev.proxymanager.server.dashboard;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.SecretEvent;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchRequestHistoryTest {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private static final int REQUESTS = 200;
    private static List<Map<String, Object>> docs;
    private static ElasticsearchRequestHistory history;

    @BeforeAll
    static void indexRequestLog(ElasticsearchTestNode es) throws IOException {
        String index = es.index("requests");
        RequestLogFixture.createIndex(es.client(), index);
        docs = RequestLogFixture.documents(REQUESTS, NOW);
        RequestLogFixture.index(es.client(), index, docs);
        // secret state events share the data stream, as the manager writes them
        RequestLogFixture.index(es.client(), index, List.of(
                event(NOW.minusSeconds(100), SecretEvent.Type.BAN),
                event(NOW.minusSeconds(95), SecretEvent.Type.BAN),
                event(NOW.minusSeconds(50), SecretEvent.Type.COOLDOWN)));
        history = ElasticsearchRequestHistory.builder().withClient(es.client()).withIndex(index).build();
    }

    private static Map<String, Object> event(Instant at, SecretEvent.Type type) {
        return new SecretEvent(at, "server-1", "github", "gh-key-1", "key", type, at.plusSeconds(2),
                "ban signal (status 403), backoff 1").toDocument();
    }

    @Test
    void countsSecretEventsOverTimeByKindAndNeverAsRequests() throws Exception {
        HistoryRange range = HistoryRange.last(Duration.ofHours(1), NOW);

        HistoryReport report = history.report(range);

        assertThat(report.eventsOverTime().keySet()).containsExactlyInAnyOrder("ban", "cooldown");
        assertThat(report.eventsOverTime().get("ban")).hasSize(report.buckets().size())
                .satisfies(counts -> assertThat(counts.stream().mapToLong(Long::longValue).sum()).isEqualTo(2));
        assertThat(report.eventsOverTime().get("cooldown").stream().mapToLong(Long::longValue).sum()).isEqualTo(1);
        // the three event documents are not requests: no status, no outcome, no extra count
        assertThat(report.totalRequests()).isEqualTo(REQUESTS);
        assertThat(report.requestsByEndpoint().get("github").stream().mapToLong(Long::longValue).sum())
                .isEqualTo(docs.stream().filter(d -> d.get(LogFields.ENDPOINT).equals("github")).count());
    }

    @Test
    void countsRequestsByCacheStatusOutcomeAndSecretOverTheRange() throws Exception {
        HistoryReport report = history.report(HistoryRange.last(Duration.ofHours(1), NOW));

        assertThat(report.totalRequests()).isEqualTo(REQUESTS);
        assertThat(new TreeMap<>(report.cache())).isEqualTo(Map.of("hit", 60L, "miss", 100L, "stale", 10L, "bypass", 30L));
        // status counts are of upstream attempts: the 70 calls answered from the cache are not among them
        Map<String, Long> upstream = RequestLogFixture.upstreamStatuses(docs);
        assertThat(upstream.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(REQUESTS - 70);
        assertThat(report.noResponse()).isEqualTo(upstream.remove("no response")).isPositive();
        assertThat(new TreeMap<>(report.statuses())).isEqualTo(upstream);
        assertThat(new TreeMap<>(report.outcomes()))
                .isEqualTo(RequestLogFixture.countBy(docs, LogFields.OUTCOME));
        assertThat(new TreeMap<>(report.requestsBySecret()))
                .isEqualTo(RequestLogFixture.countBy(docs, LogFields.SECRET_ID));
    }

    @Test
    void cacheHitsLoggedBeforeAttemptZeroStayOutOfUpstreamStatusAndLatency(ElasticsearchTestNode es)
            throws Exception {
        // given three slow 503s from upstream and five hits written the old way: attempt 1, latency 0, status 200
        String index = es.index("old-hits");
        RequestLogFixture.createIndex(es.client(), index);
        List<Map<String, Object>> log = RequestLogFixture.documents(8, NOW);
        for (int i = 0; i < log.size(); i++) {
            Map<String, Object> doc = log.get(i);
            doc.put(LogFields.ATTEMPT, 1);
            doc.put(LogFields.CACHE, i < 3 ? "miss" : "hit");
            doc.put(LogFields.STATUS, i < 3 ? 503 : 200);
            doc.put(LogFields.LATENCY_MS, i < 3 ? 400L : 0L);
        }
        RequestLogFixture.index(es.client(), index, log);

        // when
        HistoryReport report = ElasticsearchRequestHistory.builder().withClient(es.client()).withIndex(index).build()
                .report(HistoryRange.last(Duration.ofHours(1), NOW));

        // then the hits count as requests and hits, not as upstream answers
        assertThat(report.totalRequests()).isEqualTo(8);
        assertThat(report.cache()).containsEntry("hit", 5L);
        assertThat(report.statuses()).containsExactly(Map.entry("503", 3L));
        assertThat(report.noResponse()).isZero();
        assertThat(report.latency().p50()).isCloseTo(400.0, within(0.5));
    }

    @Test
    void countsRequestsPerTargetHostAndBansPerSite(ElasticsearchTestNode es) throws Exception {
        // given the shared log, and a second one where two sites banned proxies
        HistoryReport report = history.report(HistoryRange.last(Duration.ofHours(1), NOW));
        String index = es.index("site-bans");
        RequestLogFixture.createIndex(es.client(), index);
        List<Map<String, Object>> banLog = RequestLogFixture.documents(4, NOW);
        String[][] hostAndOutcome = {{"shop.example", "banned"}, {"shop.example", "banned"}, {"news.example", "banned"},
                {"shop.example", "success"}};
        for (int i = 0; i < 4; i++) {
            banLog.get(i).put(LogFields.HOST, hostAndOutcome[i][0]);
            banLog.get(i).put(LogFields.OUTCOME, hostAndOutcome[i][1]);
        }
        RequestLogFixture.index(es.client(), index, banLog);
        HistoryReport bans = ElasticsearchRequestHistory.builder().withClient(es.client()).withIndex(index).build()
                .report(HistoryRange.last(Duration.ofHours(1), NOW));

        // then requests are counted per target host, and bans per site, largest first
        assertThat(new TreeMap<>(report.requestsByHost())).isEqualTo(RequestLogFixture.countBy(docs, LogFields.HOST));
        assertThat(report.bansByHost()).isEmpty();
        assertThat(bans.requestsByHost()).containsExactly(Map.entry("shop.example", 3L), Map.entry("news.example", 1L));
        assertThat(bans.bansByHost()).containsExactly(Map.entry("shop.example", 2L), Map.entry("news.example", 1L));
    }

    @Test
    void spreadsRequestsOverTimeBucketsPerEndpoint() throws Exception {
        HistoryRange range = HistoryRange.last(Duration.ofHours(1), NOW);

        HistoryReport report = history.report(range);

        assertThat(report.buckets()).hasSize(60);
        assertThat(report.buckets().getFirst()).isEqualTo(range.from());
        assertThat(report.requestsByEndpoint().keySet()).containsExactly("github", "twitter", "maps");
        Map<String, Long> expected = RequestLogFixture.countBy(docs, LogFields.ENDPOINT);
        report.requestsByEndpoint().forEach((endpoint, counts) ->
                assertThat(counts.stream().mapToLong(Long::longValue).sum()).as(endpoint).isEqualTo(expected.get(endpoint)));
        // 200 requests 9 s apart span 30 minutes: the older half of the hour is empty, the newer one is not (the
        // newest bucket may be empty when now is in the first seconds of a minute)
        assertThat(report.requestsByEndpoint().get("github").subList(0, 25)).containsOnly(0L);
        assertThat(report.requestsByEndpoint().get("github").subList(35, 59)).doesNotContain(0L);
    }

    @Test
    void computesLatencyPercentiles() throws Exception {
        HistoryReport report = history.report(HistoryRange.last(Duration.ofHours(1), NOW));

        assertThat(report.latency().p50()).isCloseTo(100.0, within(0.5));
        assertThat(report.latency().p95()).isCloseTo(400.0, within(0.5));
        assertThat(report.latency().p99()).isCloseTo(2000.0, within(0.5));
        assertThat(report.latencyOverTime().getFirst()).isEqualTo(LatencyPercentiles.NONE);
        // the newest bucket may be empty when now is in the first seconds of a minute; the one before never is
        assertThat(report.latencyOverTime().get(report.latencyOverTime().size() - 2).p50()).isNotNull();
    }

    @Test
    void leavesOutRequestsOutsideTheRange() throws Exception {
        // the last 15 minutes hold about the newest 100 requests (9 s apart) and not the older ones
        HistoryRange range = HistoryRange.last(Duration.ofMinutes(15), NOW);
        long inRange = docs.stream()
                .map(doc -> Instant.parse((String) doc.get(LogFields.TIMESTAMP)))
                .filter(t -> !t.isBefore(range.from()) && t.isBefore(range.to()))
                .count();

        HistoryReport report = history.report(range);

        assertThat(inRange).isBetween(98L, 100L);
        assertThat(report.totalRequests()).isEqualTo(inRange);
        assertThat(report.cache().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(inRange);
    }

    @Test
    void reportsAnEmptyHistoryWhenNoIndexMatches(ElasticsearchTestNode es) throws Exception {
        RequestHistory none = ElasticsearchRequestHistory.builder().withClient(es.client())
                .withIndex(es.index("nothing-here") + "*").build();

        HistoryReport report = none.report(HistoryRange.last(Duration.ofMinutes(15), NOW));

        assertThat(report.totalRequests()).isZero();
        assertThat(report.buckets()).hasSize(60);
        assertThat(report.latency()).isEqualTo(LatencyPercentiles.NONE);
    }

    @Test
    void saysHistoryIsUnavailableWhenElasticsearchDoesNotAnswer() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (ElasticsearchClient down = ElasticsearchClient.of(b -> b.host("http://127.0.0.1:" + closedPort))) {
            RequestHistory unreachable = ElasticsearchRequestHistory.builder().withClient(down).build();

            assertThatThrownBy(() -> unreachable.report(HistoryRange.last(Duration.ofMinutes(15), NOW)))
                    .isInstanceOf(HistoryUnavailableException.class)
                    .hasMessageContaining("proxy-manager-requests");
        }
    }

    @Test
    void skipsAnUnreachableElasticsearchUntilItsNextProbe() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        FakeClock clock = new FakeClock();
        try (ElasticsearchClient down = ElasticsearchClient.of(b -> b.host("http://127.0.0.1:" + closedPort))) {
            RequestHistory unreachable = ElasticsearchRequestHistory.builder().withClient(down).withClock(clock).build();
            HistoryRange range = HistoryRange.last(Duration.ofMinutes(15), NOW);
            // given a read that failed
            assertThatThrownBy(() -> unreachable.report(range)).hasMessageContaining("could not be read");

            // when the dashboard refreshes within the backoff, Elasticsearch is not asked
            assertThatThrownBy(() -> unreachable.report(range)).isInstanceOf(HistoryUnavailableException.class)
                    .hasMessageContaining("presumed unreachable after 1 failed reads; next try in 1000 ms");

            // then after it, one read probes again, and a second failure doubles the wait
            clock.advance(Duration.ofSeconds(1));
            assertThatThrownBy(() -> unreachable.report(range)).hasMessageContaining("could not be read");
            assertThatThrownBy(() -> unreachable.report(range))
                    .hasMessageContaining("presumed unreachable after 2 failed reads; next try in 2000 ms");
        }
    }
}
