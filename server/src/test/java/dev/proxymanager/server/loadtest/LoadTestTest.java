package dev.proxymanager.server.loadtest;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.demo.DemoUpstream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadTestTest {

    @Test
    void reportsSuccessRateThroughputAndOrderedPercentiles() throws Exception {
        // given a demo upstream that accepts one key and allows far more calls than the run makes
        try (DemoUpstream upstream = new DemoUpstream(0, 10_000, Duration.ofMinutes(1), Clock.system())
                .allowKey("load-key-123456").start()) {
            ByteArrayOutputStream progress = new ByteArrayOutputStream();

            // when 300 requests go out 50 at a time
            LoadTestReport report = LoadTest.builder(URI.create(upstream.url() + "/api/x"))
                    .withConcurrent(50).withTotalRequests(300).withTimeout(Duration.ofSeconds(10))
                    .withHeader("Authorization", "Bearer load-key-123456")
                    .build().run(new PrintStream(progress));

            // then all succeed and the figures are consistent
            assertThat(report.total()).isEqualTo(300);
            assertThat(report.successRate()).isEqualTo(1.0);
            assertThat(report.statuses()).containsEntry(200, 300);
            assertThat(report.p50()).isLessThanOrEqualTo(report.p95());
            assertThat(report.p95()).isLessThanOrEqualTo(report.p99());
            assertThat(report.p99()).isLessThanOrEqualTo(report.max());
            assertThat(report.throughput()).isPositive();
            assertThat(report.describe()).contains("success rate: 100.00 %");
            assertThat(progress.toString()).contains("300/300");
            assertThat(upstream.calls()).isEqualTo(300);
        }
    }

    @Test
    void failuresAreCountedNotThrown() throws Exception {
        try (DemoUpstream upstream = new DemoUpstream(0, 10, Duration.ofMinutes(1), Clock.system()).start()) {
            // no key: the demo upstream answers 401
            LoadTestReport report = LoadTest.builder(URI.create(upstream.url() + "/api/x"))
                    .withConcurrent(5).withTotalRequests(20).build().run(null);

            assertThat(report.successRate()).isZero();
            assertThat(report.statuses()).containsEntry(401, 20);
        }
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> LoadTest.builder(URI.create("ftp://x")).build()).hasMessageStartingWith("--url must be");
        assertThatThrownBy(() -> LoadTest.builder(URI.create("http://x")).withConcurrent(0).build())
                .hasMessage("--concurrent must be > 0, was 0");
    }
}
