package dev.proxymanager.middleware.config;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingTest {

    @Test
    void aRecordBuiltInCodeIsHeldToTheSameBoundsAsTheFile() {
        assertThatThrownBy(() -> new RetryPolicy(11, Duration.ZERO, Duration.ZERO, false))
                .isInstanceOf(ConfigException.class).hasMessage("retry.max_retries must be between 0 and 10, was 11");
        assertThatThrownBy(() -> new Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(301)))
                .hasMessage("timeouts.read must be at most 5m, was \"301s\"");
        assertThatThrownBy(() -> LimitConfig.of(0, Duration.ofSeconds(1)))
                .hasMessage("limits.requests must be > 0, was 0");
    }

    @Test
    void aBareNumberIsNotADurationWhetherJsonNumberOrText() {
        Setting<Duration> s = SettingDefinitions.ROTATION_INTERVAL;

        assertThatThrownBy(() -> s.read(IntNode.valueOf(30), "x"))
                .hasMessage("x must be a duration like 250ms, 90s, 15m, 1h or 1d, was 30");
        assertThatThrownBy(() -> s.read(TextNode.valueOf("30"), "x"))
                .hasMessage("x must be a duration like 250ms, 90s, 15m, 1h or 1d, was \"30\"");
        assertThat(s.read(TextNode.valueOf("30s"), "x")).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void aDurationShownInAMessageReadsBackToItself() {
        List<Duration> values = List.of(Duration.ZERO, Duration.ofMillis(250), Duration.ofSeconds(301),
                Duration.ofMinutes(5), Duration.ofMinutes(90), Duration.ofHours(36), Duration.ofDays(2));

        assertThat(values).allSatisfy(d -> assertThat(Durations.parse(Durations.format(d))).isEqualTo(d));
        assertThat(values.stream().map(Durations::format).toList())
                .containsExactly("0s", "250ms", "301s", "5m", "90m", "36h", "2d");
    }

    @Test
    void anotherNameKeepsTheDefinition() {
        Setting<Duration> readTimeout = SettingDefinitions.READ_TIMEOUT.as("read_timeout");

        assertThatThrownBy(() -> readTimeout.parse("6m", "read_timeout"))
                .isInstanceOf(ConfigException.class)
                .extracting(e -> ((ConfigException) e).reason()).isEqualTo("must be at most 5m, was \"6m\"");
        assertThat(readTimeout.name()).isEqualTo("read_timeout");
    }
}
