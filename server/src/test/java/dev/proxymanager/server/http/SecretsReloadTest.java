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
import static org.awaitility.Awaitility.await;

/** secrets.json changed while the server runs: applied at once when valid, refused with the reason when not. */
class SecretsReloadTest {

    @TempDir
    Path dir;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static String secrets(String upstream, String... keys) {
        return "{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream, "[{\"requests\":1000,\"per\":\"1m\"}]", "",
                keys) + "}}";
    }

    private HttpResponse<String> call(int port, String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(15))
                .header("Authorization", "Bearer " + ServerHarness.ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    }

    private ServerApplication start(Path file, Duration interval) throws Exception {
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withSecretsFile(file)
                .withElasticsearchEnabled(false).withAdminToken(ServerHarness.ADMIN_TOKEN).withProtectForwarding(false)
                .withSecretsReloadInterval(interval).build();
        return new ServerApplication(config, Map.of(), Clock.system()).start();
    }

    @Test
    void aReloadSwapsTheKeysLiveAndAnInvalidFileIsRefusedWithItsPath() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            Path file = Files.writeString(dir.resolve("secrets.json"), secrets(upstream.url(), "first-key-value-1"));
            try (ServerApplication app = start(file, Duration.ZERO)) {
                int port = app.server().port();
                assertThat(call(port, "GET", "/proxy/api/a").statusCode()).isEqualTo(200);
                assertThat(upstream.lastHeaders.get("authorization")).isEqualTo("Bearer first-key-value-1");

                // when the operator replaces the key and asks for a reload
                Files.writeString(file, secrets(upstream.url(), "second-key-value-2"));
                HttpResponse<String> reload = call(port, "POST", "/api/v1/secrets/reload");

                // then the new key serves at once
                assertThat(reload.statusCode()).isEqualTo(200);
                assertThat(reload.body()).contains("\"changed\" : true").contains("\"secrets\" : 1");
                assertThat(call(port, "GET", "/proxy/api/b").statusCode()).isEqualTo(200);
                assertThat(upstream.lastHeaders.get("authorization")).isEqualTo("Bearer second-key-value-2");

                // when the file is broken, the reload is refused naming the problem, and serving goes on as before
                Files.writeString(file, secrets(upstream.url(), "second-key-value-2")
                        .replace("\"requests\":1000", "\"requests\":-5"));
                HttpResponse<String> refused = call(port, "POST", "/api/v1/secrets/reload");
                assertThat(refused.statusCode()).isEqualTo(400);
                assertThat(refused.body()).contains("invalid_secrets").contains("endpoints.api.limits[0].requests")
                        .doesNotContain("second-key-value-2");
                assertThat(call(port, "GET", "/proxy/api/c").statusCode()).isEqualTo(200);
                assertThat(upstream.lastHeaders.get("authorization")).isEqualTo("Bearer second-key-value-2");

                // and the route is an admin route
                HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/secrets/reload"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(anonymous.statusCode()).isEqualTo(401);
            }
        }
    }

    @Test
    void aReloadTurningInterceptionOnWithoutACaIsRefusedNamingBothSettings() throws Exception {
        // given a server with a proxy port but no proxy_tls_ca, and a proxy endpoint that does not intercept
        String crawl = "{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"intercept_tls\":%s,"
                + "\"secrets\":[\"http://127.0.0.1:1\"]}}}";
        Path file = Files.writeString(dir.resolve("secrets.json"), crawl.formatted("false"));
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withSecretsFile(file)
                .withElasticsearchEnabled(false).withAdminToken(ServerHarness.ADMIN_TOKEN).withProtectForwarding(false)
                .withSecretsReloadInterval(Duration.ZERO).build();
        var proxyPort = new dev.proxymanager.server.proxy.ForwardProxySettings(0, "proxy-token-1234",
                java.util.List.of(), null, Duration.ofMinutes(10));
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system())
                .withForwardProxy(proxyPort, dev.proxymanager.server.proxy.tls.TlsInterceptionSettings.NONE).start()) {
            int port = app.server().port();

            // when the endpoint turns intercept_tls on and the file is reloaded
            Files.writeString(file, crawl.formatted("true"));
            HttpResponse<String> refused = call(port, "POST", "/api/v1/secrets/reload");

            // then the reload is refused naming both settings, and the endpoint still does not intercept
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(refused.body()).contains("endpoints.crawl.intercept_tls").contains("proxy_tls_ca");
            assertThat(call(port, "GET", "/api/v1/proxies").body()).contains("\"intercept_tls\" : false");
        }
    }

    @Test
    void aChangedFileIsPickedUpWithoutBeingAskedAndCountedInMetrics() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            Path file = Files.writeString(dir.resolve("secrets.json"), secrets(upstream.url(), "first-key-value-1"));
            try (ServerApplication app = start(file, Duration.ofMillis(100))) {
                int port = app.server().port();

                Files.writeString(file, secrets(upstream.url(), "second-key-value-2", "third-key-value-3"));

                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(call(port, "GET", "/metrics").body()).contains("proxy_secrets_reloads_total 1.0"));
                for (int i = 0; i < 4; i++) {
                    assertThat(call(port, "GET", "/proxy/api/x" + i).statusCode()).isEqualTo(200);
                    assertThat(upstream.lastHeaders.get("authorization")).isNotEqualTo("Bearer first-key-value-1");
                }
                assertThat(call(port, "GET", "/api/v1/proxies").body()).contains("key-2").doesNotContain("first-key");
            }
        }
    }

    @Test
    void secretsWithoutIdsKeepTheirCountsAcrossAReloadAndTheirIdsAcrossARestart() throws Exception {
        try (TestUpstream upstream = new TestUpstream()) {
            // given two short keys without ids, two uses a minute each, both used up
            String template = "{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":\"" + upstream.url() + "\","
                    + "\"limits\":[{\"requests\":2,\"per\":\"1m\"}],\"cache\":{\"enabled\":false},"
                    + "\"retry\":{\"max_retries\":0},\"secrets\":[%s]}}}";
            Path file = Files.writeString(dir.resolve("secrets.json"), template.formatted("\"b1\", \"b2\""));
            String idsBefore;
            try (ServerApplication app = start(file, Duration.ZERO)) {
                int port = app.server().port();
                for (int i = 0; i < 4; i++) {
                    assertThat(call(port, "GET", "/proxy/api/" + i).statusCode()).isEqualTo(200);
                }
                assertThat(call(port, "GET", "/proxy/api/full").statusCode()).isEqualTo(429);
                idsBefore = ids(call(port, "GET", "/api/v1/proxies").body());

                // when a third key is added in front and the file reloaded
                Files.writeString(file, template.formatted("\"b0\", \"b1\", \"b2\""));
                assertThat(call(port, "POST", "/api/v1/secrets/reload").statusCode()).isEqualTo(200);

                // then only the new key has uses left: the two kept their counts under their ids
                assertThat(call(port, "GET", "/proxy/api/5").statusCode()).isEqualTo(200);
                assertThat(call(port, "GET", "/proxy/api/6").statusCode()).isEqualTo(200);
                assertThat(call(port, "GET", "/proxy/api/7").statusCode()).isEqualTo(429);
            }
            Files.writeString(file, template.formatted("\"b1\", \"b2\""));
            try (ServerApplication restarted = start(file, Duration.ZERO)) {
                assertThat(ids(call(restarted.server().port(), "GET", "/api/v1/proxies").body())).isEqualTo(idsBefore);
            }
            assertThat(idsBefore).matches("…#[0-9a-f]{12} …#[0-9a-f]{12}");
        }
    }

    /** The secret ids listed by {@code /api/v1/proxies}, in order. */
    private static String ids(String proxiesBody) throws Exception {
        StringBuilder out = new StringBuilder();
        HttpExchange.JSON.readTree(proxiesBody).path("endpoints").path("api").path("secrets")
                .forEach(s -> out.append(s.path("id").asText()).append(' '));
        return out.toString().strip();
    }
}
