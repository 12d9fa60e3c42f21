package dev.proxymanager.middleware.lease;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.SecretType;

import java.time.Instant;
import java.util.Objects;

/**
 * A secret handed out for one request (or a batch, when leases are exclusive or shared): which endpoint, which
 * secret, its clear value for the transport to apply, and the lease id to release it with. Return it with
 * {@code RotationEngine.release(lease, outcome)}. {@link #toString()} shows the id and masked value only.
 * Immutable and threadsafe.
 *
 * @param endpoint endpoint name
 * @param type whether the value is an API key or a proxy URL
 * @param secretId the secret's id (given, or derived by {@code SecretIds})
 * @param maskedValue the value's masked form, for logs
 * @param value the clear key or proxy URL — for the transport only; never log it
 * @param leaseId unique id of this lease
 * @param acquiredAtNanos when it was granted, on the clock's timeline
 * @param expiresAtNanos when the lease lapses if not released ({@link Long#MAX_VALUE} when leases are off)
 */
public record SecretLease(String endpoint, SecretType type, String secretId, String maskedValue, String value,
                          String leaseId, long acquiredAtNanos, long expiresAtNanos) {

    public SecretLease {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(maskedValue, "maskedValue");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(leaseId, "leaseId");
    }

    /** When the lease lapses, or {@code null} when leases are off for the endpoint. */
    public Instant expiresAt() {
        return expiresAtNanos == Long.MAX_VALUE ? null : Clock.toInstant(expiresAtNanos);
    }

    @Override
    public String toString() {
        return "SecretLease[endpoint=" + endpoint + ", secretId=" + secretId + ", value=" + maskedValue
                + ", leaseId=" + leaseId + "]";
    }
}
