package dev.proxymanager.middleware.log;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A change of a secret's state (cooldown, ban, removal, restoration), recorded in the request log's data stream
 * for the dashboards: a document with {@link LogFields#EVENT}, for a cooldown or ban {@link LogFields#COOLDOWN_UNTIL},
 * and {@link LogFields#EVENT_REASON}.
 *
 * @param timestamp when the change happened
 * @param instanceId which process saw it; may be null
 * @param endpoint the endpoint name
 * @param secretId the secret's id or masked form, never its value
 * @param secretType {@code key} or {@code proxy}; may be null
 * @param type what happened
 * @param cooldownUntil until when the secret cools down: required for COOLDOWN, set for BAN, else null
 * @param reason why, e.g. {@code ban signal (status 403), backoff 1}; may be null. Never holds a secret's value.
 */
public record SecretEvent(Instant timestamp, String instanceId, String endpoint, String secretId, String secretType,
                          Type type, Instant cooldownUntil, String reason) {

    /** What happened to the secret; {@link #value()} is the document's {@code event}. */
    public enum Type {
        COOLDOWN, BAN, REMOVED, RESTORED;

        /** {@code cooldown}, {@code ban}, {@code removed} or {@code restored}. */
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SecretEvent {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(type, "type");
        if (type == Type.COOLDOWN && cooldownUntil == null) {
            throw new IllegalArgumentException("a cooldown event needs cooldownUntil");
        }
    }

    /** The document: field names from {@link LogFields}, null fields left out. */
    public Map<String, Object> toDocument() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(LogFields.TIMESTAMP, timestamp.toString());
        RequestLogEntry.putIfSet(doc, LogFields.INSTANCE_ID, instanceId);
        doc.put(LogFields.ENDPOINT, endpoint);
        doc.put(LogFields.SECRET_ID, secretId);
        RequestLogEntry.putIfSet(doc, LogFields.SECRET_TYPE, secretType);
        doc.put(LogFields.EVENT, type.value());
        if (cooldownUntil != null) {
            doc.put(LogFields.COOLDOWN_UNTIL, cooldownUntil.toString());
        }
        RequestLogEntry.putIfSet(doc, LogFields.EVENT_REASON, reason);
        doc.put(LogFields.SCHEMA_VERSION, RequestLogEntry.SCHEMA_VERSION);
        return doc;
    }
}
