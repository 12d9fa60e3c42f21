package dev.proxymanager.middleware.log;

import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.quota.UpstreamQuota;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestLogEntryTest {
    private static final Instant T = Instant.parse("2026-02-03T04:05:06.789Z");

    @Test
    void documentUsesTheSharedFieldNamesAndLeavesOutUnsetFields() {
        RequestLogEntry entry = RequestLogEntry.builder().withTimestamp(T).withInstanceId("server-1")
                .withEndpoint("github").withMethod("get").withUrl("https://API.github.com/repos?api_key=REDACTED")
                .withSecretId("gh-1").withSecretType("key").withStatus(200).withLatencyMs(42L).withBytes(1024L)
                .withCache("miss").withAttempt(1).withOutcome(OutcomeKind.SUCCESS).build();

        Map<String, Object> doc = entry.toDocument();

        assertThat(doc).containsEntry(LogFields.TIMESTAMP, "2026-02-03T04:05:06.789Z")
                .containsEntry(LogFields.METHOD, "GET")
                .containsEntry(LogFields.HOST, "api.github.com")
                .containsEntry(LogFields.STATUS, 200)
                .containsEntry(LogFields.ATTEMPT, 1)
                .containsEntry(LogFields.CACHE, "miss")
                .containsEntry(LogFields.SCHEMA_VERSION, RequestLogEntry.SCHEMA_VERSION)
                .doesNotContainKeys(LogFields.PROXY_ID, LogFields.ERROR_TYPE, LogFields.EVENT);
    }

    @Test
    void documentCarriesTheQuotaThatBindsFirstOfWhatTheResponseReported() {
        long reset = Instant.parse("2026-02-03T05:00:00Z").toEpochMilli() * 1_000_000L;
        QuotaReading reading = new QuotaReading(List.of(new UpstreamQuota("hour", 5000, 12, reset, 0),
                new UpstreamQuota("day", -1, 900, reset + 1, 0)), 0);

        Map<String, Object> doc = RequestLogEntry.builder().withTimestamp(T).withEndpoint("github").withMethod("GET")
                .withUrl("https://api.github.com/").withOutcome(OutcomeKind.SUCCESS).withUpstreamQuota(reading).build()
                .toDocument();

        assertThat(doc).containsEntry(LogFields.UPSTREAM_REMAINING, 12L).containsEntry(LogFields.UPSTREAM_LIMIT, 5000L)
                .containsEntry(LogFields.UPSTREAM_RESET, "2026-02-03T05:00:00Z");
        assertThat(RequestLogEntry.builder().withTimestamp(T).withEndpoint("github").withMethod("GET")
                .withUrl("https://api.github.com/").withOutcome(OutcomeKind.SUCCESS).withUpstreamQuota(QuotaReading.NONE)
                .build().toDocument())
                .doesNotContainKeys(LogFields.UPSTREAM_REMAINING, LogFields.UPSTREAM_LIMIT, LogFields.UPSTREAM_RESET);
    }

    @Test
    void requiresTheFieldsEveryDocumentHas() {
        assertThatThrownBy(() -> RequestLogEntry.builder().withTimestamp(T).withMethod("GET").withUrl("https://h/")
                .withOutcome(OutcomeKind.SUCCESS).build()).isInstanceOf(NullPointerException.class).hasMessage("endpoint");
        assertThatThrownBy(() -> RequestLogEntry.builder().withTimestamp(T).withEndpoint("e").withMethod("GET")
                .withUrl("https://h/").withOutcome(OutcomeKind.SUCCESS).withAttempt(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attempt must be >= 0, was -1");
    }

    private static RequestLogEntry.Builder fromCache() {
        return RequestLogEntry.builder().withTimestamp(T).withEndpoint("e").withMethod("GET").withUrl("https://h/")
                .withStatus(200).withOutcome(OutcomeKind.SUCCESS).withAttempt(0);
    }

    @Test
    void attemptZeroIsACallAnsweredFromTheCacheWithoutUpstreamFigures() {
        assertThat(fromCache().withCache("hit").build().toDocument()).containsEntry(LogFields.ATTEMPT, 0)
                .containsEntry(LogFields.CACHE, "hit").doesNotContainKeys(LogFields.LATENCY_MS, LogFields.SECRET_ID);
        assertThat(fromCache().withCache("stale").build().cache()).isEqualTo("stale");
        assertThatThrownBy(() -> fromCache().withCache("miss").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be hit or stale, was miss");
        assertThatThrownBy(() -> fromCache().withCache("hit").withLatencyMs(0L).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no latency_ms or secret_id");
        assertThatThrownBy(() -> fromCache().withCache("hit").withSecretId("gh-1").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no latency_ms or secret_id");
    }

    @Test
    void aRetryCarriesNoCacheStatusSoACallCountsOnce() {
        RequestLogEntry.Builder b = RequestLogEntry.builder().withTimestamp(T).withEndpoint("e").withMethod("GET")
                .withUrl("https://h/").withOutcome(OutcomeKind.RATE_LIMITED).withCache("miss");

        assertThat(b.withAttempt(1).build().toDocument()).containsEntry(LogFields.CACHE, "miss");
        assertThat(b.withAttempt(2).build().toDocument()).doesNotContainKey(LogFields.CACHE);
    }

    @Test
    void cooldownEventCarriesItsEndTime() {
        SecretEvent event = new SecretEvent(T, "i-1", "github", "gh-1", "key", SecretEvent.Type.COOLDOWN,
                T.plusSeconds(900), "3 failures within 5 min");

        assertThat(event.toDocument()).containsEntry(LogFields.EVENT, "cooldown")
                .containsEntry(LogFields.COOLDOWN_UNTIL, "2026-02-03T04:20:06.789Z")
                .containsEntry(LogFields.SECRET_ID, "gh-1")
                .containsEntry(LogFields.EVENT_REASON, "3 failures within 5 min");
        assertThatThrownBy(() -> new SecretEvent(T, null, "github", "gh-1", null, SecretEvent.Type.COOLDOWN, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cooldownUntil");
    }
}
