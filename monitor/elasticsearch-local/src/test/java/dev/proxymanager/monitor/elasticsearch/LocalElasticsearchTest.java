package dev.proxymanager.monitor.elasticsearch;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalElasticsearchTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static Path data;
    private static LocalElasticsearch node;

    @BeforeAll
    static void startNode() throws IOException {
        // not JUnit's @TempDir: as root the node runs as 'nobody', and @TempDir's parent is private to root
        data = Files.createTempDirectory("local-es-test-");
        node = LocalElasticsearch.builder().withDataDirectory(data).withHeapSize("256m").build().start();
    }

    @AfterAll
    static void stopNode() throws IOException {
        node.close();
        ElasticsearchHome.deleteTree(data);
    }

    @Test
    void startedNodeIsGreenOnALoopbackPortAndReportsTheBundledVersion() throws Exception {
        assertThat(node.httpUrl()).startsWith("http://127.0.0.1:");
        assertThat(node.httpPort()).isPositive();

        String health = get(node.httpUrl() + "/_cluster/health");
        String nodes = get(node.httpUrl() + "/_nodes/_local");

        assertThat(health).contains("\"status\":\"green\"");
        assertThat(nodes).contains("\"version\":\"" + LocalElasticsearch.bundledVersion() + "\"");
        assertThat(LocalElasticsearch.bundledVersion()).isEqualTo("9.5.3");
    }

    @Test
    void nodeKeepsItsDataLogsAndConfigInTheCallersDataDirectory() {
        assertThat(data.resolve("config/elasticsearch.yml")).exists();
        assertThat(data.resolve("data")).isDirectory();
        assertThat(node.logFile()).startsWith(data).exists();
    }

    @Test
    void restartedNodeComesBackOnTheSamePortWithItsData() throws Exception {
        put(node.httpUrl() + "/restart-probe/_doc/1?refresh=true", "{\"kept\":true}");
        int port = node.httpPort();

        node.stop();
        assertThat(node.isRunning()).isFalse();
        assertThatThrownBy(() -> get(node.httpUrl() + "/_cluster/health")).isInstanceOf(ConnectException.class);
        node.start();

        assertThat(node.httpPort()).isEqualTo(port);
        assertThat(get(node.httpUrl() + "/restart-probe/_doc/1")).contains("\"kept\":true");
    }

    @Test
    void startupFailureCarriesTheTailOfTheNodesLog() throws IOException {
        Path badData = Files.createTempDirectory("local-es-bad-");
        // too small a heap: the node's JVM refuses to start and says why in its output
        LocalElasticsearch bad = LocalElasticsearch.builder().withDataDirectory(badData).withHeapSize("1k").build();
        try {
            assertThatThrownBy(bad::start)
                    .isInstanceOf(LocalElasticsearchException.class)
                    .hasMessageContaining("exited with code")
                    .hasMessageContaining("last lines of")
                    .hasMessageContaining("heap");
            assertThat(bad.isRunning()).isFalse();
        } finally {
            bad.close();
            ElasticsearchHome.deleteTree(badData);
        }
    }

    @Test
    void builderRejectsBadSettingsByName() {
        assertThatThrownBy(() -> LocalElasticsearch.builder().build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("dataDirectory");
        assertThatThrownBy(() -> LocalElasticsearch.builder().withHeapSize("lots"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heapSize").hasMessageContaining("lots");
        assertThatThrownBy(() -> LocalElasticsearch.builder().withHttpPort(70000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("httpPort").hasMessageContaining("70000");
        assertThatThrownBy(() -> LocalElasticsearch.builder().withStartupTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("startupTimeout");
    }

    @Test
    void httpUrlBeforeTheFirstStartSaysSo() {
        LocalElasticsearch never = LocalElasticsearch.builder().withDataDirectory(data.resolve("never")).build();

        assertThatThrownBy(never::httpUrl).isInstanceOf(IllegalStateException.class).hasMessageContaining("not been started");
    }

    private static String get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void put(String url, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
    }
}
