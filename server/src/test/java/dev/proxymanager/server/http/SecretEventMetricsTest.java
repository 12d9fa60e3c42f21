package dev.proxymanager.server.http;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.ServerApplication;
import dev.proxymanager.server.config.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Through the real server: a 429 at a key's limit is a cooldown, a 403 a ban, and each state change is in /metrics. */
class SecretEventMetricsTest {

    private static final String LIMITED_KEY = "limited-key-value-0001";
    private static final String BANNED_KEY = "banned-key-value-0002";

    @TempDir
    Path dir;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Two endpoints on one upstream with the default ban_statuses (401, 403, 429), no retries. */
    private static String secrets(String upstream, String otherKeyId, String otherKey) {
        String common = "\"type\":\"key\",\"base_url\":\"" + upstream + "\",\"key\":{\"header\":\"Authorization\","
                + "\"format\":\"Bearer {key}\"},\"retry\":{\"max_retries\":0},\"cache\":{\"enabled\":false},";
        return "{\"endpoints\":{"
                + "\"api\":{" + common + "\"limits\":[{\"requests\":1,\"per\":\"1m\"}],"
                + "\"secrets\":[{\"id\":\"key-1\",\"value\":\"" + LIMITED_KEY + "\"}]},"
                + "\"other\":{" + common + "\"limits\":[{\"requests\":100,\"per\":\"1m\"}],"
                + "\"secrets\":[{\"id\":\"" + otherKeyId + "\",\"value\":\"" + otherKey + "\"}]}}}";
    }

    private HttpResponse<String> call(int port, String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(15))
                .header("Authorization", "Bearer " + ServerHarness.ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void a429AtTheLimitIsACooldownA403ABanAndEveryStateChangeIsCountedInMetrics() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            Path file = Files.writeString(dir.resolve("secrets.json"), secrets(upstream.url(), "key-2", BANNED_KEY));
            ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withSecretsFile(file)
                    .withElasticsearchEnabled(false).withAdminToken(ServerHarness.ADMIN_TOKEN).build();
            try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
                int port = app.server().port();

                // when the upstream answers 429 to the use that fills key-1's window (1 a minute)
                upstream.failWith = 429;
                assertThat(call(port, "GET", "/proxy/api/a").statusCode()).isEqualTo(429);
                // and 403 to key-2, far from its limit
                upstream.failWith = 403;
                assertThat(call(port, "GET", "/proxy/other/b").statusCode()).isEqualTo(403);
                // and key-2 leaves the configuration
                Files.writeString(file, secrets(upstream.url(), "key-3", "replacement-key-value-3"));
                assertThat(call(port, "POST", "/api/v1/secrets/reload").statusCode()).isEqualTo(200);

                // then the 429 is rate_limited, not banned, and each state change is counted by endpoint and kind
                String metrics = call(port, "GET", "/metrics").body();
                assertThat(metrics)
                        .contains("proxy_requests_seconds_count{endpoint=\"api\",outcome=\"rate_limited\",status=\"429\"} 1")
                        .contains("proxy_secret_events_total{endpoint=\"api\",kind=\"cooldown\"} 1.0")
                        .contains("proxy_secret_events_total{endpoint=\"other\",kind=\"ban\"} 1.0")
                        .contains("proxy_secret_events_total{endpoint=\"other\",kind=\"removed\"} 1.0")
                        .doesNotContain("proxy_secret_events_total{endpoint=\"api\",kind=\"ban\"}")
                        .doesNotContain(LIMITED_KEY).doesNotContain(BANNED_KEY);
                // and key-1 waits only for its window's next free slot, about a minute, not a growing ban: the
                // window plus the default 100 ms guard band, in whole seconds rounded up, so at most 61
                HttpResponse<String> cooling = call(port, "GET", "/proxy/api/c");
                assertThat(cooling.statusCode()).isEqualTo(429);
                assertThat(Long.parseLong(cooling.headers().firstValue("Retry-After").orElseThrow()))
                        .isBetween(55L, 61L);
            }
        }
    }
}
