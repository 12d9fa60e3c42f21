package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class LogstashPipelineTest {

    /** The server's Logstash appender (read, not run: the server module owns it). */
    static final String SERVER_APPENDER =
            "server/src/main/resources/dev/proxymanager/server/logging/logstash-appender.xml";
    /** The port of the server's Logstash appender when LOGSTASH_PORT is not set. */
    private static final int SERVER_APPENDER_PORT = 5000;

    static LogstashConfig pipeline() {
        try (Stream<Path> files = Files.list(RepositoryFiles.resolve("monitor/logstash/pipeline"))) {
            List<Path> configs = files.filter(f -> f.toString().endsWith(".conf")).toList();
            if (configs.size() != 1) {
                throw new AssertionError("expected one pipeline .conf, found " + configs);
            }
            return LogstashConfig.parse(Files.readString(configs.getFirst()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void tcpInputReadsJsonLinesOnTheServersAppenderPort() {
        List<LogstashConfig.Plugin> inputs = pipeline().plugins("input", "tcp");

        assertThat(inputs).singleElement().satisfies(tcp -> {
            assertThat(tcp.string("codec")).isEqualTo("json_lines");
            assertThat(Integer.parseInt(tcp.string("port"))).isEqualTo(SERVER_APPENDER_PORT);
        });
    }

    @Test
    void serverAppenderSendsJsonLinesOfTheEncoderLogsTemplateTestWritesToThePipelinesPort() {
        String appender = RepositoryFiles.read(SERVER_APPENDER);
        Matcher port = Pattern.compile("\\$\\{LOGSTASH_PORT:-(\\d+)}").matcher(appender);

        assertThat(port.find()).as("%s: default port", SERVER_APPENDER).isTrue();
        assertThat(Integer.parseInt(port.group(1))).isEqualTo(SERVER_APPENDER_PORT);
        // LogstashTcpSocketAppender ends each event with a line separator: what the json_lines codec splits on.
        assertThat(appender).contains("net.logstash.logback.appender.LogstashTcpSocketAppender")
                .contains("<encoder class=\"net.logstash.logback.encoder.LogstashEncoder\">")
                .contains("<customFields>" + LogsTemplateTest.CUSTOM_FIELDS + "</customFields>");
    }

    @Test
    void outputWritesTheLogsIndicesOurTemplateMaps() {
        LogstashConfig.Plugin output = pipeline().plugins("output", "elasticsearch").getFirst();
        String index = output.string("index");

        assertThat(index).startsWith("proxy-manager-logs-");
        String concrete = index.replaceAll("%\\{[^}]*}", "2026.01.31");
        assertThat(IndexTemplate.read(IndexTemplate.LOGS).covers(concrete)).isTrue();
        assertThat(IndexTemplate.read(IndexTemplate.REQUEST_LOG).covers(concrete)).isFalse();
        assertThat(output.string("manage_template")).as("our template maps the logs, not Logstash's").isEqualTo("false");
    }

    @Test
    void outputUsesTheDevCredentialsFromTheEnvironmentThatComposeSets() {
        LogstashConfig.Plugin output = pipeline().plugins("output", "elasticsearch").getFirst();
        var logstashEnv = Compose.read().environment("logstash");

        assertThat(output.settings().get("hosts")).isEqualTo(List.of("${ELASTICSEARCH_URL}"));
        assertThat(output.string("user")).isEqualTo("${ELASTICSEARCH_USERNAME}");
        assertThat(output.string("password")).isEqualTo("${ELASTICSEARCH_PASSWORD}");
        assertThat(logstashEnv).containsKeys("ELASTICSEARCH_URL", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD");
    }

    @Test
    void logstashSettingsPointAtTheMountedPipelineDirectory() {
        Compose compose = Compose.read();
        String settings = RepositoryFiles.read("monitor/logstash/config/logstash.yml");

        assertThat(compose.mounts("logstash")).anySatisfy(m -> {
            assertThat(m.source()).isEqualTo("./monitor/logstash/pipeline");
            assertThat(settings).contains("path.config: " + m.target());
        });
        assertThat(compose.mounts("logstash")).anySatisfy(m ->
                assertThat(m.target()).isEqualTo("/usr/share/logstash/config/logstash.yml"));
    }

    @Test
    void parserRejectsAMalformedPipeline() {
        assertThatThrownBy(() -> LogstashConfig.parse("input { tcp { port => 5000 }"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected '}'");
        assertThatThrownBy(() -> LogstashConfig.parse("input { tcp { port 5000 } }"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("=>");
    }
}
