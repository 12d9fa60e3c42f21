package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.event.KeyValuePair;

/**
 * The logs index template accepts every log line the server emits: each key-value logged in the server and the
 * library is written by the server's encoder (LogstashEncoder) as Logstash receives it, and indexed on a real node
 * into one daily index, in both orders. A field of two shapes (a count here, a list there) was rejected before.
 */
@ExtendWith(ElasticsearchExtension.class)
class LogsTemplateTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The server encoder's custom fields, as in its appender configuration (LogstashPipelineTest checks). */
    static final String CUSTOM_FIELDS = "{\"service\":\"proxy-manager-server\"}";
    private static final List<String> SOURCES = List.of("server/src/main/java", "middleware/src/main/java",
            "middleware-redis/src/main/java", "middleware-elasticsearch/src/main/java");
    private static final Pattern KEY_VALUE = Pattern.compile("addKeyValue\\(\\s*(?:\"(\\w+)\"|LogFields\\.(\\w+))");
    private static final Pattern LOG_FIELD = Pattern.compile("public static final String (\\w+) = \"([^\"]+)\";");

    /** One line per key-value call site's shape: message and key-values with the Java types the code logs. */
    private static final List<Line> LINES = List.of(
            line("forwarding server listening", "port", 8080),
            line("proxy port listening", "proxy_port", 8888),
            line("proxy target refused", "endpoint", "crawl", "target_host", "169.254.169.254", "target_port", 80,
                    "reason", "a link-local address"),
            line("draining", "drain_timeout_ms", 30_000L),
            line("server stop failed", "error", "java.io.IOException: closed"),
            line("no elasticsearch_url: starting the local Elasticsearch node", "data", "/tmp/es"),
            line("secrets reloaded", "file", "/etc/proxy-manager/secrets.json", "endpoint_count", 3, "secrets", 12),
            line("secrets file not applied", "file", "/etc/proxy-manager/secrets.json", "reason", "endpoints: missing"),
            line("settings changed", "endpoints", List.of("github", "maps"), "max_concurrent_requests", 200,
                    "max_queue_size", 500),
            line("refused target", "endpoint", "github", "host", "example.org", "reason", "not an allowed origin"),
            line("request log documents dropped", "log_documents_dropped", 7L, "log_buffer_size", 10_000,
                    "data_stream", "proxy-manager-requests"),
            line("cannot restore usage", "endpoint", "github", "reason", "index missing"),
            line("skipping logged uses", "endpoint", "github", "secret_id", "gh-1"),
            line("restored uses", "uses", 42L),
            line("serving stale cache entry", "endpoint", "github", "cache", "stale", "cache_id", "abc123"),
            line("cache store errors", "endpoint", "github", "cache_errors", 3L),
            line("cache store reachable again", "cache_errors", 0L),
            line("proxy port listening", "proxy_port", 8888),
            line("proxy target refused", "endpoint", "crawl", "target_host", "169.254.169.254", "target_port", 80,
                    "reason", "a link-local, metadata, wildcard or multicast address"),
            line("proxy banned by site", "endpoint", "crawl", "target_host", "shop.example", "proxy_id", "proxy-1",
                    "cooldown_until", "2026-01-31T10:15:30Z"));

    record Line(String message, Map<String, Object> keyValues) {
    }

    private static Line line(String message, Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return new Line(message, map);
    }

    @Test
    void everyKeyValueTheServerLogsIsMappedWithOneTypeAndCoveredHere() throws IOException {
        Set<String> logged = keysLoggedInSources();
        Set<String> covered = new TreeSet<>();
        LINES.forEach(l -> covered.addAll(l.keyValues().keySet()));
        IndexTemplate logs = IndexTemplate.read(IndexTemplate.LOGS);

        assertThat(logged).contains("endpoints", "endpoint_count", "log_documents_dropped");
        assertThat(covered).as("key-values logged in %s", SOURCES).containsAll(logged);
        assertThat(logs.fieldTypes()).as("explicitly mapped in %s", IndexTemplate.LOGS).containsKeys(
                logged.toArray(String[]::new));
    }

    @Test
    void logsTemplateAcceptsEveryLogLineInEitherOrder(ElasticsearchTestNode node) throws Exception {
        List<String> documents = encode(LINES);
        List<String> reversed = new ArrayList<>(documents);
        Collections.reverse(reversed);

        for (List<String> order : List.of(documents, reversed)) {
            String prefix = node.index("logs" + (order == documents ? "a" : "b"));
            ObjectNode template = (ObjectNode) IndexTemplate.read(IndexTemplate.LOGS).body().deepCopy();
            template.putArray("index_patterns").add(prefix + "-*");
            assertThat(send(node, "PUT", "/_index_template/" + prefix, template.toString()).statusCode()).isEqualTo(200);

            String index = prefix + "-2026.01.31"; // as Logstash names the day's index
            for (String document : order) {
                HttpResponse<String> response = send(node, "POST", "/" + index + "/_doc", document);
                assertThat(response.statusCode()).as("%s\n→ %s", document, response.body()).isEqualTo(201);
            }
            JsonNode mapping = JSON.readTree(send(node, "GET", "/" + index + "/_mapping", null).body())
                    .path(index).path("mappings").path("properties");
            assertThat(mapping.path("endpoints").path("type").asText()).isEqualTo("keyword");
        }
    }

    @Test
    void templateBeforeTheFixRejectsTheSecondShapeOfEndpoints(ElasticsearchTestNode node) throws Exception {
        // The template as it was: endpoints left to dynamic mapping, and 'secrets reloaded' as it was: its count
        // under endpoints (now endpoint_count).
        ObjectNode template = (ObjectNode) IndexTemplate.read(IndexTemplate.LOGS).body().deepCopy();
        ((ObjectNode) template.path("template").path("mappings").path("properties")).remove("endpoints");
        String prefix = node.index("logsold");
        template.putArray("index_patterns").add(prefix + "-*");
        send(node, "PUT", "/_index_template/" + prefix, template.toString());
        List<String> documents = encode(List.of(
                line("secrets reloaded", "file", "/etc/proxy-manager/secrets.json", "endpoints", 3, "secrets", 12),
                LINES.stream().filter(l -> l.message().equals("settings changed")).findFirst().orElseThrow()));

        assertThat(send(node, "POST", "/" + prefix + "-2026.01.31/_doc", documents.get(0)).statusCode()).isEqualTo(201);
        HttpResponse<String> second = send(node, "POST", "/" + prefix + "-2026.01.31/_doc", documents.get(1));
        assertThat(second.statusCode()).isEqualTo(400);
        assertThat(second.body()).contains("endpoints");
    }

    /** The lines as the server's LogstashEncoder writes them, less what the Logstash pipeline removes. */
    private static List<String> encode(List<Line> lines) {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.setCustomFields(CUSTOM_FIELDS);
        encoder.start();
        Logger logger = context.getLogger("dev.proxymanager.server.ServerApplication");
        List<String> documents = new ArrayList<>();
        for (Line line : lines) {
            LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, line.message(), null, null);
            line.keyValues().forEach((key, value) -> event.addKeyValuePair(new KeyValuePair(key, value)));
            try {
                ObjectNode document = (ObjectNode) JSON.readTree(new String(encoder.encode(event), StandardCharsets.UTF_8));
                document.remove("@version"); // the pipeline's mutate filter
                for (String key : line.keyValues().keySet()) {
                    assertThat(document.has(key)).as("encoder writes %s as a field: %s", key, document).isTrue();
                }
                documents.add(document.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        encoder.stop();
        return documents;
    }

    private static Set<String> keysLoggedInSources() throws IOException {
        Map<String, String> logFields = new LinkedHashMap<>();
        Matcher constants = LOG_FIELD.matcher(RepositoryFiles.read(LogFieldNames.SOURCE));
        while (constants.find()) {
            logFields.put(constants.group(1), constants.group(2));
        }
        Set<String> keys = new TreeSet<>();
        for (String source : SOURCES) {
            try (Stream<Path> files = Files.walk(RepositoryFiles.resolve(source))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher calls = KEY_VALUE.matcher(Files.readString(file));
                    while (calls.find()) {
                        keys.add(calls.group(1) != null ? calls.group(1) : logFields.get(calls.group(2)));
                    }
                }
            }
        }
        return keys;
    }

    private static HttpResponse<String> send(ElasticsearchTestNode node, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.url() + path))
                .header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
