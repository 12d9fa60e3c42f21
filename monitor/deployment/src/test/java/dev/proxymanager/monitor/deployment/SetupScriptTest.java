package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code monitor/setup/setup.sh} with {@code sh} and {@code curl}, in the file layout that the compose
 * {@code setup} service mounts, against stand-ins for Elasticsearch and Kibana that record what it sends.
 */
class SetupScriptTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = "elastic";
    private static final String PASSWORD = "test-password";
    private static final String KIBANA_PASSWORD = "test-kibana-password";

    @TempDir
    Path container;

    private final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private HttpServer elasticsearch;
    private HttpServer kibana;

    record Recorded(String method, String path, String query, Map<String, List<String>> headers, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    record Run(int exitCode, String output) {
    }

    @AfterEach
    void stopServers() {
        if (elasticsearch != null) {
            elasticsearch.stop(0);
        }
        if (kibana != null) {
            kibana.stop(0);
        }
    }

    @Test
    void installsTemplatesAndTheIlmPolicyWhereTheClusterHasIlmWithoutWaitingForKibana() throws Exception {
        Run run = runSetup("setup", true, "{\"success\":true,\"successCount\":3}");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(request("POST", "/_security/user/kibana_system/_password").json())
                .isEqualTo(JSON.readTree("{\"password\":\"" + KIBANA_PASSWORD + "\"}"));
        assertThat(request("PUT", "/_ilm/policy/proxy-manager-requests").json())
                .isEqualTo(fileJson("monitor/elasticsearch/request-log-ilm-policy.json"));
        JsonNode requestLogTemplate = fileJson(IndexTemplate.REQUEST_LOG);
        ((ObjectNode) requestLogTemplate.path("template").path("settings"))
                .put("index.lifecycle.name", "proxy-manager-requests");
        assertThat(request("PUT", "/_index_template/proxy-manager-requests").json()).isEqualTo(requestLogTemplate);
        assertThat(request("PUT", "/_index_template/proxy-manager-cache").json()).isEqualTo(fileJson(IndexTemplate.CACHE));
        assertThat(request("PUT", "/_index_template/proxy-manager-logs").json()).isEqualTo(fileJson(IndexTemplate.LOGS));
        assertThat(requests).as("the setup service Logstash and the server wait for never calls Kibana")
                .noneMatch(r -> r.path().startsWith("/api/"));
        assertThat(requests).allSatisfy(r -> assertThat(r.headers().get("Authorization"))
                .containsExactly("Basic " + Base64.getEncoder()
                        .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void goesOnWithoutAPolicyAndSaysSoWhereTheClusterHasNoIlm() throws Exception {
        Run run = runSetup("setup", false, "{\"success\":true,\"successCount\":3}");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("ILM is not available on this cluster");
        assertThat(requests).noneMatch(r -> r.path().startsWith("/_ilm/policy"));
        assertThat(request("PUT", "/_index_template/proxy-manager-requests").json())
                .isEqualTo(fileJson(IndexTemplate.REQUEST_LOG));
    }

    @Test
    void kibanaSetupImportsEverySavedObjectsFile() throws Exception {
        Run run = runSetup("kibana-setup", true, "{\"success\":true,\"successCount\":3}");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertImportedEverySavedObjectsFile();
        assertThat(requests).as("kibana-setup changes nothing in Elasticsearch")
                .allMatch(r -> r.path().startsWith("/api/"));
    }

    @Test
    void kibanaSetupTriesEveryFileAndFailsWhenKibanaRejectsOne() throws Exception {
        Run run = runSetup("kibana-setup", false,
                "{\"success\":false,\"errors\":[{\"id\":\"x\",\"error\":{\"type\":\"missing_references\"}}]}");

        assertThat(run.exitCode()).isNotZero();
        assertThat(run.output()).contains("failed").contains("missing_references").contains("Kibana rejected:");
        assertThat(requests.stream().filter(r -> r.path().equals("/api/saved_objects/_import")).count())
                .isEqualTo(savedObjectsFiles().size());
    }

    private static List<Path> savedObjectsFiles() throws IOException {
        try (Stream<Path> list = Files.list(RepositoryFiles.resolve(KibanaSavedObjects.DIRECTORY))) {
            return list.filter(f -> f.toString().endsWith(".ndjson")).sorted().toList();
        }
    }

    private void assertImportedEverySavedObjectsFile() throws IOException {
        List<Recorded> imports = requests.stream().filter(r -> r.path().equals("/api/saved_objects/_import")).toList();
        List<Path> files = savedObjectsFiles();
        assertThat(imports).hasSameSizeAs(files).isNotEmpty();
        for (int i = 0; i < files.size(); i++) {
            Recorded recorded = imports.get(i);
            assertThat(recorded.method()).isEqualTo("POST");
            assertThat(recorded.query()).isEqualTo("overwrite=true");
            assertThat(recorded.headers().get("Kbn-xsrf")).containsExactly("true");
            assertThat(recorded.body()).contains(Files.readString(files.get(i)).strip());
        }
    }

    private Recorded request(String method, String path) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + method + " " + path + " in " + requests.stream()
                        .map(r -> r.method() + " " + r.path()).toList()));
    }

    private static JsonNode fileJson(String file) throws IOException {
        return JSON.readTree(RepositoryFiles.read(file));
    }

    /** Runs {@code service}'s entrypoint as compose would: its mounts at their targets, its arguments. */
    private Run runSetup(String service, boolean clusterHasIlm, String importResponse) throws Exception {
        elasticsearch = server(exchange -> switch (exchange.getRequestURI().getPath()) {
            case "/_cluster/health" -> new Response(200, "{\"status\":\"green\"}");
            case "/_ilm/status" -> clusterHasIlm ? new Response(200, "{\"operation_mode\":\"RUNNING\"}")
                    : new Response(400, "{\"error\":\"no handler found for uri [/_ilm/status] and method [GET]\"}");
            default -> new Response(200, "{\"acknowledged\":true}");
        });
        kibana = server(exchange -> switch (exchange.getRequestURI().getPath()) {
            case "/api/status" -> new Response(200, "{\"status\":{\"overall\":{\"level\":\"available\"}}}");
            case "/api/saved_objects/_import" -> new Response(200, importResponse);
            default -> new Response(404, "{}");
        });

        Compose compose = Compose.read();
        for (Compose.Mount mount : compose.mounts(service)) {
            copy(RepositoryFiles.resolve(mount.source()), container.resolve(mount.target().substring(1)));
        }
        List<String> entrypoint = JSON.convertValue(compose.service(service).path("entrypoint"),
                JSON.getTypeFactory().constructCollectionType(List.class, String.class));
        assertThat(entrypoint).hasSize(3).first().isEqualTo("sh");

        ProcessBuilder builder = new ProcessBuilder("sh", container.resolve(entrypoint.get(1).substring(1)).toString(),
                entrypoint.get(2));
        Map<String, String> env = builder.environment();
        env.put("ELASTICSEARCH_URL", url(elasticsearch));
        env.put("ELASTICSEARCH_USERNAME", USER);
        env.put("ELASTICSEARCH_PASSWORD", PASSWORD);
        env.put("KIBANA_URL", url(kibana));
        env.put("KIBANA_PASSWORD", KIBANA_PASSWORD);
        env.put("SETUP_DIR", container.resolve("setup").toString());
        env.put("SETUP_ATTEMPTS", "1");
        Path output = Files.createTempFile(container, "setup", ".log");
        builder.redirectErrorStream(true).redirectOutput(output.toFile());
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("setup.sh did not finish in 60 s: " + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output));
    }

    private record Response(int status, String body) {
    }

    private HttpServer server(Function<HttpExchange, Response> handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            requests.add(new Recorded(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    exchange.getRequestURI().getRawQuery(), Map.copyOf(exchange.getRequestHeaders()),
                    new String(body, StandardCharsets.UTF_8)));
            Response response = handler.apply(exchange);
            byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(response.status(), bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return server;
    }

    private static String url(HttpServer server) {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void copy(Path source, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        if (Files.isDirectory(source)) {
            try (Stream<Path> files = Files.walk(source)) {
                for (Path file : files.toList()) {
                    Path destination = target.resolve(source.relativize(file).toString());
                    if (Files.isDirectory(file)) {
                        Files.createDirectories(destination);
                    } else {
                        Files.copy(file, destination);
                    }
                }
            }
        } else {
            Files.copy(source, target);
        }
    }
}
