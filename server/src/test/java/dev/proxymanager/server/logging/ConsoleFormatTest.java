package dev.proxymanager.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.proxymanager.middleware.log.LogFields;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's logback.xml picks the console format from LOG_FORMAT: text by default, JSON when asked. */
class ConsoleFormatTest {
    private LoggerContext context;

    @AfterEach
    void tearDown() {
        if (context != null) {
            context.stop();
        }
        System.clearProperty("LOG_FORMAT");
    }

    private String consoleLine() throws Exception {
        context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(getClass().getClassLoader().getResource("logback.xml"));
        List<Status> errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getEffectiveLevel() >= Status.ERROR).toList();
        assertThat(errors).as("logback configuration errors").isEmpty();
        Logger logger = context.getLogger("dev.proxymanager.test");
        OutputStreamAppender<ILoggingEvent> console = (OutputStreamAppender<ILoggingEvent>)
                context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("CONSOLE");
        assertThat(console).as("the CONSOLE appender").isNotNull();
        Encoder<ILoggingEvent> encoder = console.getEncoder();
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, "request {} done", null,
                new Object[] {7});
        event.addKeyValuePair(new KeyValuePair(LogFields.ENDPOINT, "github"));
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }

    @Test
    void consolePrintsReadableTextLinesByDefault() throws Exception {
        String line = consoleLine();

        assertThat(line).doesNotStartWith("{")
                .contains(" INFO ", "dev.proxymanager.test", "request 7 done", LogFields.ENDPOINT + "=")
                .contains("github").endsWith(System.lineSeparator());
    }

    @Test
    void consolePrintsJsonLinesWhenLogFormatIsJson() throws Exception {
        System.setProperty("LOG_FORMAT", "json");

        JsonNode line = new ObjectMapper().readTree(consoleLine());

        assertThat(line.path("message").asText()).isEqualTo("request 7 done");
        assertThat(line.path("level").asText()).isEqualTo("INFO");
        assertThat(line.path(LogFields.ENDPOINT).asText()).isEqualTo("github");
        assertThat(line.path("service").asText()).isEqualTo("proxy-manager-server");
    }

    @Test
    void anyOtherLogFormatMeansText() {
        System.setProperty("LOG_FORMAT", "plain");

        assertThat(new ConsoleFormatResource().getPropertyValue()).isEqualTo(ConsoleFormatResource.TEXT_RESOURCE);
    }
}
