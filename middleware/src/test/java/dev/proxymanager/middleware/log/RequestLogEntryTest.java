package dev.proxymanager.middleware.log;

import dev.proxymanager.middleware.health.OutcomeKind;

import org.junit.jupiter.api.Test;

import java.time.Instant;
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
                .withCache("miss").withAttempt(2).withOutcome(OutcomeKind.SUCCESS).build();

        Map<String, Object> doc = entry.toDocument();

        assertThat(doc).containsEntry(LogFields.TIMESTAMP, "2026-02-03T04:05:06.789Z")
                .containsEntry(LogFields.METHOD, "GET")
                .containsEntry(LogFields.HOST, "api.github.com")
                .containsEntry(LogFields.STATUS, 200)
                .containsEntry(LogFields.ATTEMPT, 2)
                .containsEntry(LogFields.SCHEMA_VERSION, RequestLogEntry.SCHEMA_VERSION)
                .doesNotContainKeys(LogFields.PROXY_ID, LogFields.ERROR_TYPE, LogFields.EVENT);
    }

    @Test
    void requiresTheFieldsEveryDocumentHas() {
        assertThatThrownBy(() -> RequestLogEntry.builder().withTimestamp(T).withMethod("GET").withUrl("https://h/")
                .withOutcome(OutcomeKind.SUCCESS).build()).isInstanceOf(NullPointerException.class).hasMessage("endpoint");
        assertThatThrownBy(() -> RequestLogEntry.builder().withTimestamp(T).withEndpoint("e").withMethod("GET")
                .withUrl("https://h/").withOutcome(OutcomeKind.SUCCESS).withAttempt(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attempt must be >= 1, was 0");
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
