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
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Through the real server: the quota the upstream reports shows in /api/v1/proxies and /metrics beside our counts,
 * and a key reported exhausted is not sent again before the reset (the caller gets our 429, the upstream no call).
 */
class UpstreamQuotaVisibilityTest {

    private static final String KEY = "quota-key-value-0001";

    @TempDir
    Path dir;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> call(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET()
                .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + ServerHarness.ADMIN_TOKEN)
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theReportedQuotaIsShownAndAnExhaustedKeyWaitsForTheReset() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            String secrets = "{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":\"" + upstream.url() + "\","
                    + "\"retry\":{\"max_retries\":0},\"cache\":{\"enabled\":false},"
                    + "\"limits\":[{\"requests\":100,\"per\":\"1m\"}],"
                    + "\"groups\":{\"acct\":{\"limits\":[{\"requests\":50,\"per\":\"1m\"}],\"secrets\":[\"key-1\"]}},"
                    + "\"secrets\":[{\"id\":\"key-1\",\"value\":\"" + KEY + "\"}]}}}";
            Path file = Files.writeString(dir.resolve("secrets.json"), secrets);
            ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withSecretsFile(file)
                    .withElasticsearchEnabled(false).withAdminToken(ServerHarness.ADMIN_TOKEN).build();
            long reset = Instant.now().plusSeconds(120).getEpochSecond();
            try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
                int port = app.server().port();
                upstream.responseHeaders.putAll(Map.of("X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "7",
                        "X-RateLimit-Reset", String.valueOf(reset)));

                assertThat(call(port, "/proxy/api/a").statusCode()).isEqualTo(200);

                String proxies = call(port, "/api/v1/proxies").body().replaceAll("\\s", "");
                assertThat(proxies).contains("\"upstream\":{\"policy\":\"\",\"limit\":5000,\"remaining\":7,\"reset\":\""
                        + Instant.ofEpochSecond(reset) + "\"").contains("\"total_uses\":1")
                        .contains("\"group\":{\"name\":\"acct\",\"windows\":[{");
                assertThat(proxies.replaceAll(".*\"group\":\\{", "")).contains("\"uses\":1").contains("\"max\":50");
                assertThat(call(port, "/metrics").body())
                        .contains("proxy_upstream_quota_remaining{endpoint=\"api\",secret=\"key-1\"} 7.0")
                        .doesNotContain(KEY);

                // when the upstream reports nothing left
                upstream.responseHeaders.put("X-RateLimit-Remaining", "0");
                assertThat(call(port, "/proxy/api/b").statusCode()).isEqualTo(200);

                // then the key is not sent again before the reset: our 429, no call upstream
                HttpResponse<String> held = call(port, "/proxy/api/c");
                assertThat(held.statusCode()).isEqualTo(429);
                assertThat(Long.parseLong(held.headers().firstValue("Retry-After").orElseThrow())).isBetween(100L, 120L);
                assertThat(upstream.requests.get()).isEqualTo(2);
                assertThat(call(port, "/metrics").body())
                        .contains("proxy_upstream_quota_remaining{endpoint=\"api\",secret=\"key-1\"} 0.0");
            }
        }
    }
}
