package dev.proxymanager.server.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.log.LogFields;
import net.logstash.logback.appender.LogstashTcpSocketAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The server's logback.xml, loaded into a private LoggerContext, writing to a Logstash stand-in on loopback. */
class LogstashAppenderTest {
    private final ObjectMapper json = new ObjectMapper();
    private LoggerContext context;

    @AfterEach
    void tearDown() {
        if (context != null) {
            context.stop();
        }
        System.clearProperty("LOGSTASH_HOST");
        System.clearProperty("LOGSTASH_PORT");
    }

    private LoggerContext configure() throws JoranException {
        context = new LoggerContext();
        // SLF4J's service provider does this for the real context; a private context needs it by hand
        context.setMDCAdapter(new LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        URL config = getClass().getClassLoader().getResource("logback.xml");
        assertThat(config).as("server logback.xml on the classpath").isNotNull();
        configurator.doConfigure(config);
        List<Status> errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getEffectiveLevel() >= Status.ERROR).toList();
        assertThat(errors).as("logback configuration errors").isEmpty();
        return context;
    }

    @Test
    void shipsOneJsonObjectPerLineWithOurFieldsToLogstash() throws Exception {
        try (ServerSocket logstash = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            // given the server's configuration pointed at a loopback socket standing in for Logstash
            logstash.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
            System.setProperty("LOGSTASH_HOST", "127.0.0.1");
            System.setProperty("LOGSTASH_PORT", Integer.toString(logstash.getLocalPort()));
            Logger log = configure().getLogger("dev.proxymanager.test");
            assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("LOGSTASH")).isNotNull();

            // when
            for (int i = 0; i < 3; i++) {
                log.atInfo().addKeyValue(LogFields.ENDPOINT, "github").addKeyValue(LogFields.SECRET_ID, "gh-1")
                        .addKeyValue(LogFields.OUTCOME, "success").addKeyValue(LogFields.ATTEMPT, i + 1)
                        .log("request {} done", i);
            }

            // then Logstash receives three lines, each one complete JSON object with our fields
            List<JsonNode> lines = new ArrayList<>();
            try (Socket s = logstash.accept()) {
                s.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8));
                for (int i = 0; i < 3; i++) {
                    String line = in.readLine();
                    assertThat(line).isNotNull().startsWith("{").endsWith("}");
                    lines.add(json.readTree(line));
                }
            }
            assertThat(lines).allSatisfy(n -> {
                assertThat(n.isObject()).isTrue();
                assertThat(n.path("@timestamp").asText()).isNotEmpty();
                assertThat(n.path("level").asText()).isEqualTo("INFO");
                assertThat(n.path(LogFields.ENDPOINT).asText()).isEqualTo("github");
                assertThat(n.path(LogFields.SECRET_ID).asText()).isEqualTo("gh-1");
                assertThat(n.path(LogFields.OUTCOME).asText()).isEqualTo("success");
                assertThat(n.path("service").asText()).isEqualTo("proxy-manager-server");
            });
            assertThat(lines.get(2).path("message").asText()).isEqualTo("request 2 done");
            assertThat(lines.get(2).path(LogFields.ATTEMPT).asInt()).isEqualTo(3);
        }
    }

    @Test
    void withoutLogstashHostThereIsNoLogstashAppender() throws Exception {
        LoggerContext ctx = configure();

        assertThat(ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("LOGSTASH")).isNull();
        assertThat(ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE")).isNotNull();
    }

    @Test
    void aMissingLogstashNeverBlocksLogging() throws Exception {
        // given a Logstash address where nothing listens
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        System.setProperty("LOGSTASH_HOST", "127.0.0.1");
        System.setProperty("LOGSTASH_PORT", Integer.toString(deadPort));
        Logger log = configure().getLogger("dev.proxymanager.test");
        context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender("CONSOLE"); // keep the test output small
        LogstashShipping shipping = LogstashShipping.attachTo((LogstashTcpSocketAppender)
                context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogstashShipping.APPENDER_NAME));

        // when far more events than the ring buffer holds are logged
        long start = System.nanoTime();
        for (int i = 0; i < 50_000; i++) {
            log.atInfo().addKeyValue(LogFields.ENDPOINT, "github").log("event {}", i);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        // then the caller was never held up waiting for the connection, and the loss shows in the figures
        assertThat(took).isLessThan(Duration.ofSeconds(5));
        assertThat(shipping.dropped()).isGreaterThanOrEqualTo(50_000 - 8192);
        await().atMost(Duration.ofSeconds(15)).until(() -> shipping.connectionFailures() > 0);
        assertThat(shipping.connected()).isFalse();
        assertThat(shipping.sent()).isZero();
    }

    @Test
    void shippingFiguresCountWhatReachedLogstash() throws Exception {
        try (ServerSocket logstash = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            logstash.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
            System.setProperty("LOGSTASH_HOST", "127.0.0.1");
            System.setProperty("LOGSTASH_PORT", Integer.toString(logstash.getLocalPort()));
            Logger log = configure().getLogger("dev.proxymanager.test");
            LogstashShipping shipping = LogstashShipping.attachTo((LogstashTcpSocketAppender)
                    context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogstashShipping.APPENDER_NAME));

            for (int i = 0; i < 5; i++) {
                log.info("event {}", i);
            }
            try (Socket s = logstash.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                s.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
                for (int i = 0; i < 5; i++) {
                    assertThat(in.readLine()).contains("event " + i);
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> shipping.sent() == 5);
                assertThat(shipping.connected()).isTrue();
                assertThat(shipping.dropped()).isZero();
            }
        }
    }
}
