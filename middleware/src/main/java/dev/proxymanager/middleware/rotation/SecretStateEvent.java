package dev.proxymanager.middleware.rotation;

import java.time.Instant;
import java.util.Objects;

/**
 * A change of a secret's state, for the request log and metrics. Immutable and threadsafe.
 *
 * @param endpoint endpoint name
 * @param secretId the secret's id or masked value (never its value)
 * @param kind what happened; {@link Kind#logName()} is the request log's {@code event} value
 * @param at when it happened
 * @param until end of the cooldown for {@link Kind#COOLDOWN} and {@link Kind#BAN}, else {@code null}
 * @param reason why, e.g. {@code ban signal (status 429), backoff 1}
 */
public record SecretStateEvent(String endpoint, String secretId, Kind kind, Instant at, Instant until, String reason) {

    /** The kinds of state change. */
    public enum Kind {
        /** Cooling down (failures, Retry-After, usage cap). */
        COOLDOWN("cooldown"),
        /** Cooling down because of a ban signal (401/403/429, connection error). */
        BAN("ban"),
        /** Out of rotation until restored. */
        REMOVED("removed"),
        /** Back in rotation. */
        RESTORED("restored");

        private final String logName;

        Kind(String logName) {
            this.logName = logName;
        }

        /** The value for {@code LogFields.EVENT}. */
        public String logName() {
            return logName;
        }
    }

    public SecretStateEvent {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(at, "at");
    }
}
