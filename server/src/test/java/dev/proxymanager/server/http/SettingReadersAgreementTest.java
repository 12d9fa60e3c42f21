package dev.proxymanager.server.http;

import dev.proxymanager.middleware.config.ConfigException;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same value of a setting, given to every reader of that setting — secrets.json, {@code PUT /api/v1/settings} and
 * server.yaml — gets the same verdict and, when refused, the same message after the setting's path.
 */
class SettingReadersAgreementTest {

    private static final String ACCEPTED = "accepted";
    private static final String AUTH = "Bearer " + ServerHarness.ADMIN_TOKEN;

    @TempDir
    static Path dir;
    private static TestUpstream upstream;
    private static ServerHarness harness;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":5,\"per\":\"60s\"}]", "", "sk-agreement-0000-1111") + "}}", 10, 10, 3, false);
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    @ParameterizedTest(name = "{0} = {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // endpoint setting | server.yaml key | value (JSON) | verdict
            "timeouts.read | read_timeout | \"300s\" | accepted",
            "timeouts.read | read_timeout | \"301s\" | must be at most 5m, was \"301s\"",
            "timeouts.read | read_timeout | \"6m\" | must be at most 5m, was \"6m\"",
            "timeouts.read | read_timeout | 30 | must be a duration like 250ms, 90s, 15m, 1h or 1d, was 30",
            "timeouts.read | read_timeout | \"0s\" | must be > 0, was \"0s\"",
            "timeouts.read | read_timeout | \"10 minutes\" | must be a duration like 250ms, 90s, 15m, 1h or 1d, was \"10 minutes\"",
            "timeouts.connect | connect_timeout | \"250ms\" | accepted",
            "timeouts.connect | connect_timeout | 5 | must be a duration like 250ms, 90s, 15m, 1h or 1d, was 5",
            "retry.max_retries | retries | 10 | accepted",
            "retry.max_retries | retries | 11 | must be between 0 and 10, was 11",
            "retry.max_retries | retries | -1 | must be between 0 and 10, was -1",
            "retry.max_retries | retries | \"3\" | must be a whole number, was \"3\"",
            "rotation_interval | | \"0s\" | must be > 0, was \"0s\"",
            "rotation_interval | | 30 | must be a duration like 250ms, 90s, 15m, 1h or 1d, was 30",
            "rotation_interval | | \"1m\" | accepted",
            "limits[0].requests | | -5 | must be > 0, was -5",
            "limits[0].per | | 60 | must be a duration like 250ms, 90s, 15m, 1h or 1d, was 60",
            "limits[0].match | | {\"path\":\"/search/*\"} | accepted",
            "limits[0].match | | {\"methods\":[\"GET\",\"post\"]} | accepted",
            "limits[0].match | | {} | must name \"methods\", a \"path\" or both",
            "limits[0].match.path | | \"search\" | must be a path glob like \"/search/*\" (starting with /, no query, no spaces), was \"search\"",
            "limits[0].match.methods[0] | | \"G T\" | must be an HTTP method like \"GET\", was \"G T\"",
            "rotation | | \"random\" | must be one of [least-used, round-robin, time-based, rate-limited, health-weighted], was \"random\"",
            "| max_queue_wait | \"2s\" | accepted",
            "| max_queue_wait | 2 | must be a duration like 250ms, 90s, 15m, 1h or 1d, was 2",
            "| max_concurrent_requests | 0 | must be > 0, was 0",
            "| max_queue_size | -1 | must be >= 0, was -1",
    })
    void everyReaderGivesTheSameVerdict(String endpointSetting, String serverKey, String value, String verdict)
            throws Exception {
        Map<String, String> verdicts = new LinkedHashMap<>();
        if (endpointSetting != null) {
            verdicts.put("secrets.json", secretsJson(endpointSetting, value));
            verdicts.put("PUT endpoints", put("{\"endpoints\":{\"api\":" + nested(endpointSetting, value) + "}}",
                    "endpoints.api." + endpointSetting));
        }
        if (serverKey != null) {
            verdicts.put("server.yaml", serverYaml(serverKey, value));
            if (!serverKey.endsWith("_timeout") && !serverKey.equals("retries")) {
                verdicts.put("PUT top level", put("{\"" + serverKey + "\":" + value + "}", serverKey));
            }
        }

        assertThat(verdicts).allSatisfy((reader, v) -> assertThat(v).as(reader).isEqualTo(verdict));
    }

    /** {@code {"timeouts":{"read":V}}} for {@code timeouts.read}; limits get the other field a limit needs. */
    private static String nested(String setting, String value) {
        if (setting.startsWith("limits[0].match")) {
            // the match object, or one field of it ({"methods": [V]} for methods[0])
            String match = setting.equals("limits[0].match") ? value
                    : setting.endsWith("methods[0]") ? "{\"methods\":[" + value + "]}" : "{\"path\":" + value + "}";
            return "{\"limits\":[{\"requests\":5,\"per\":\"60s\",\"match\":" + match + "}]}";
        }
        if (setting.startsWith("limits[0].")) {
            String field = setting.substring("limits[0].".length());
            String other = field.equals("per") ? "\"requests\":5" : "\"per\":\"60s\"";
            return "{\"limits\":[{\"" + field + "\":" + value + "," + other + "}]}";
        }
        String[] parts = setting.split("\\.");
        String json = value;
        for (int i = parts.length - 1; i >= 0; i--) {
            json = "{\"" + parts[i] + "\":" + json + "}";
        }
        return json;
    }

    private static String secretsJson(String setting, String value) {
        String endpoint = nested(setting, value);
        String json = "{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":\"http://127.0.0.1:1\","
                + "\"secrets\":[{\"id\":\"k\",\"value\":\"sk-agreement\"}]," + endpoint.substring(1) + "}}";
        try {
            SecretsConfig.parse(json, Map.of());
            return ACCEPTED;
        } catch (ConfigException e) {
            assertThat(e.path()).isEqualTo("endpoints.api." + setting);
            return e.reason();
        }
    }

    private static String put(String body, String path) throws Exception {
        HttpResponse<String> r = harness.send("PUT", "/api/v1/settings", body, "Authorization", AUTH);
        if (r.statusCode() == 200) {
            return ACCEPTED;
        }
        assertThat(r.statusCode()).isEqualTo(400);
        String message = HttpExchange.JSON.readTree(r.body()).path("message").asText();
        assertThat(message).startsWith(path + " ");
        return message.substring(path.length() + 1);
    }

    private static String serverYaml(String key, String value) throws Exception {
        Path yaml = Files.writeString(dir.resolve("server.yaml"), key + ": " + value + "\n");
        try {
            ServerConfigLoader.load(yaml, Map.of(), Map.of());
            return ACCEPTED;
        } catch (ServerConfigException e) {
            assertThat(e.setting()).isEqualTo(key);
            return e.getMessage().substring(key.length() + 2);
        }
    }
}
