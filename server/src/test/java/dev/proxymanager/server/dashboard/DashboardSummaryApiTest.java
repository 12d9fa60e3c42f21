package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.store.UnavailableCause;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The summary JSON the page reads, over real HTTP, with stand-in histories written as plain lambdas. */
class DashboardSummaryApiTest {
    private static final String TOKEN = "admin-token-93be01";
    private static final Instant NOW = Instant.parse("2026-11-24T12:00:07Z");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void answersWithBothErrorsWhenNeitherHistoryNorEngineCanReport() throws Exception {
        DashboardHandler dashboard = DashboardHandler.builder()
                .withAccessToken(TOKEN)
                .withHistory(range -> {
                    throw new HistoryUnavailableException("request log 'x' could not be read: ConnectException", null);
                })
                .withLiveSecrets(() -> {
                    throw new IllegalStateException("engine stopped");
                })
                .build();

        JsonNode summary = summary(dashboard, "1h");

        assertThat(summary.at("/history/available").asBoolean()).isFalse();
        assertThat(summary.at("/history/error").asText()).isEqualTo("the request log could not be read");
        assertThat(summary.at("/live/available").asBoolean()).isFalse();
        assertThat(summary.at("/live/error").asText()).contains("IllegalStateException").doesNotContain("engine stopped");
    }

    @Test
    void asksTheHistoryForTheSelectedRangeAndComputesTheHitRatioOverCacheLookups() throws Exception {
        HistoryRange[] asked = new HistoryRange[1];
        DashboardHandler dashboard = DashboardHandler.builder()
                .withAccessToken(TOKEN)
                .withClock(new dev.proxymanager.middleware.clock.FakeClock(NOW))
                .withHistory(range -> {
                    asked[0] = range;
                    List<Instant> buckets = List.of(range.from());
                    return new HistoryReport(range, 10, buckets, Map.of("github", List.of(10L)),
                            List.of(new LatencyPercentiles(90.0, 300.0, 900.0)),
                            Map.of("hit", 3L, "miss", 4L, "stale", 1L, "bypass", 2L), Map.of("200", 10L), 0,
                            Map.of("success", 9L, "rate_limited", 1L), new LatencyPercentiles(90.0, 300.0, 900.0),
                            Map.of("gh-key-1", 10L), Map.of("ban", List.of(2L)));
                })
                .withLiveSecrets(() -> List.of(
                        new SecretStatus("github", "gh-key-1", UnavailableCause.READY, 3, 30, Duration.ofMinutes(1)),
                        new SecretStatus("github", "gh-key-2", UnavailableCause.AT_LIMIT, 30, 30, Duration.ofMinutes(1))))
                .build();

        JsonNode summary = summary(dashboard, "15m");

        // 15 minutes in 15-second buckets, ending at the close of the bucket holding now
        assertThat(asked[0]).isEqualTo(new HistoryRange(Instant.parse("2026-11-24T11:45:15Z"),
                Instant.parse("2026-11-24T12:00:15Z"), Duration.ofSeconds(15)));
        assertThat(summary.at("/range/bucketMillis").asLong()).isEqualTo(15_000);
        assertThat(summary.at("/history/cacheHitRatio").asDouble()).isEqualTo(3.0 / 8.0);
        assertThat(summary.at("/history/failedRequests").asLong()).isEqualTo(1);
        assertThat(summary.at("/history/eventsOverTime/0/event").asText()).isEqualTo("ban");
        assertThat(summary.at("/history/eventsOverTime/0/counts/0").asLong()).isEqualTo(2);
        assertThat(summary.at("/live/secrets/0/requestsInRange").asLong()).isEqualTo(10);
        assertThat(summary.at("/live/secrets/0/windowSeconds").asLong()).isEqualTo(60);
        assertThat(summary.at("/live/secrets/0/state").asText()).isEqualTo("ready");
        assertThat(summary.at("/live/secrets/1/state").asText()).isEqualTo("at_limit");
        assertThat(summary.at("/refreshMillis").asLong()).isEqualTo(5_000);
    }

    private static JsonNode summary(DashboardHandler dashboard, String range) throws Exception {
        try (DashboardServer server = new DashboardServer(dashboard)) {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            URI.create(server.dashboardUrl() + "api/summary?range=" + range))
                    .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            return new ObjectMapper().readTree(response.body());
        }
    }
}
