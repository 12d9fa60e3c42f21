package dev.proxymanager.server;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.config.ServerConfig;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@ExtendWith(ElasticsearchExtension.class)
class ServerApplicationTest {

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void embeddedDefaultServesTheDemoThroughRotatedKeysAndProxies(ElasticsearchTestNode es) throws Exception {
        // given the embedded default (no secrets file) on a free port, with the test's real Elasticsearch
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0)
                .withElasticsearchUrl(URI.create(es.url())).build();
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
            int port = app.server().port();

            // when a newcomer follows the printed curl line, a few times
            Set<String> keys = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = get(port, "/proxy/demo-api/items/" + i);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"served_to\":\"key:");
                keys.add(r.headers().firstValue("X-Proxy-Manager-Secret").orElseThrow());
            }
            // and asks for an item again: the response cache in Elasticsearch answers
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    get(port, "/proxy/demo-api/items/1").headers().firstValue("X-Cache").orElse("").equals("HIT"));
            // and calls the proxy-protected endpoint
            HttpResponse<String> viaProxy = get(port, "/proxy/demo-search/search?q=java");

            // then keys rotate, the proxy endpoint goes through a demo proxy, and readiness sees Elasticsearch
            assertThat(keys).hasSizeGreaterThan(1);
            assertThat(viaProxy.statusCode()).isEqualTo(200);
            assertThat(viaProxy.body()).contains("\"served_to\":\"proxy:proxy-");
            HttpResponse<String> ready = get(port, "/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).contains("\"elasticsearch\" : \"up\"");
            assertThat(app.banner()).contains("curl -i http://127.0.0.1:" + port + "/proxy/demo-api/items/42")
                    .contains("/dashboard?token=").contains("/metrics");
            assertThat(app.banner()).doesNotContain("demo-key-aaaa-1111");
        }
    }

    @Test
    void dashboardShowsTheEnginesSecretsAndTheRequestHistoryBehindTheAdminToken(ElasticsearchTestNode es)
            throws Exception {
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0)
                .withElasticsearchUrl(URI.create(es.url())).build();
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
            int port = app.server().port();
            // given traffic through the demo API
            for (int i = 0; i < 4; i++) {
                assertThat(get(port, "/proxy/demo-api/items/" + i).statusCode()).isEqualTo(200);
            }

            // then the dashboard refuses a visitor without the token
            assertThat(get(port, "/dashboard/api/summary").statusCode()).isEqualTo(401);
            // and with it shows every demo secret by id, and the logged requests once they are searchable
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                HttpResponse<String> summary = client.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/dashboard/api/summary?range=1h"))
                        .header("Authorization", "Bearer " + app.adminToken()).timeout(Duration.ofSeconds(15)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(summary.statusCode()).isEqualTo(200);
                assertThat(summary.body()).contains("\"endpoint\":\"demo-api\"").contains("\"endpoint\":\"demo-search\"")
                        .contains("\"available\":true").doesNotContain("\"totalRequests\":0");
                assertThat(summary.body()).doesNotContain("demo-key-aaaa-1111");
            });
        }
    }

    @Test
    void anElasticsearchOutageDegradesServingAndShowsInMetrics() throws Exception {
        // given an Elasticsearch URL where nothing listens
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0)
                .withElasticsearchUrl(URI.create("http://127.0.0.1:" + deadPort)).build();
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
            int port = app.server().port();

            // when requests come in, then they are still served (no cache, the log buffers)
            for (int i = 0; i < 3; i++) {
                assertThat(get(port, "/proxy/demo-api/items/" + i).statusCode()).isEqualTo(200);
            }
            // and the outage is visible to monitoring, the usage store being fine
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                String metrics = get(port, "/metrics").body();
                assertThat(metrics)
                        .contains("proxy_backend_state{backend=\"elasticsearch\",state=\"degraded\"} 1.0")
                        .contains("proxy_backend_state{backend=\"elasticsearch\",state=\"up\"} 0.0")
                        .contains("proxy_backend_state{backend=\"usage_store\",state=\"up\"} 1.0")
                        .containsPattern("proxy_request_log_failed_bulks_total [1-9]")
                        .contains("proxy_request_log_delivered_total 0.0");
            });
        }
    }

    @Test
    void elasticsearchWithSecurityOnIsReadyWithTheConfiguredCredentials() throws Exception {
        // given a stand-in for a secured node: 401 without the right Basic credentials, cluster health with them
        String expected = "Basic " + java.util.Base64.getEncoder().encodeToString(
                "elastic:s3cret-pw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.util.List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer secured = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        secured.createContext("/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            sent.add(auth == null ? "none" : auth);
            boolean health = exchange.getRequestURI().getPath().equals("/_cluster/health");
            byte[] body = (!expected.equals(auth) ? "{\"status\":401}" : health
                    ? "{\"cluster_name\":\"stand-in\",\"status\":\"green\"}" : "{\"status\":404}")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
            exchange.sendResponseHeaders(!expected.equals(auth) ? 401 : health ? 200 : 404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        secured.start();
        try {
            ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0)
                    .withElasticsearchUrl(URI.create("http://127.0.0.1:" + secured.getAddress().getPort()))
                    .withElasticsearchCredentials("elastic", "s3cret-pw").build();
            try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
                int port = app.server().port();
                assertThat(get(port, "/proxy/demo-api/items/1").statusCode()).isEqualTo(200);

                // when readiness is asked
                HttpResponse<String> ready = get(port, "/ready");

                // then the probe got through, and every request to the node carried the credentials
                assertThat(ready.body()).contains("\"elasticsearch\" : \"up\"");
                assertThat(get(port, "/metrics").body())
                        .contains("proxy_backend_state{backend=\"elasticsearch\",state=\"up\"} 1.0");
                assertThat(sent).isNotEmpty().allMatch(expected::equals);
            }
        } finally {
            secured.stop(0);
        }
    }

    @Test
    void aMissingSecretsFileStopsStartUpNamingTheSetting() {
        ServerConfig config = ServerConfig.builder().withPort(0).withElasticsearchEnabled(false)
                .withProtectForwarding(false).withSecretsFile(Path.of("/nonexistent/secrets.json")).build();

        assertThatThrownBy(() -> new ServerApplication(config, Map.of(), Clock.system()).start())
                .isInstanceOf(ServerConfigException.class).hasMessageStartingWith("secrets_file: ")
                .hasMessageContaining("/nonexistent/secrets.json");
    }

    @Test
    void aWorldReadableCaKeyStopsStartUpNamingTheFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // given the demo with TLS interception on for its proxy endpoint and a CA key every user can read
        Path cert = dev.proxymanager.server.proxy.tls.CertificateAuthority.create("unit", java.time.Instant.now(),
                Duration.ofDays(1)).writeTo(dir);
        Path key = dir.resolve(dev.proxymanager.server.proxy.tls.CertificateAuthority.KEY_FILE);
        java.nio.file.Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        var tls = new dev.proxymanager.server.proxy.tls.TlsInterceptionSettings(cert, key, Map.of("demo-search",
                new dev.proxymanager.server.proxy.tls.TlsInterceptionSettings.EndpointRule(true, java.util.List.of())), null);
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withElasticsearchEnabled(false).build();

        // when it starts, then it refuses, naming the setting and the file
        assertThatThrownBy(() -> new ServerApplication(config, Map.of(), Clock.system())
                .withForwardProxy(null, tls).start())
                .isInstanceOf(ServerConfigException.class).hasMessageStartingWith("proxy_tls_ca.key: ")
                .hasMessageContaining(key.toString());
    }
}
