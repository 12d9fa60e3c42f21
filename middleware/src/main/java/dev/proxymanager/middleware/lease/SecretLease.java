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
 * @param routes the route buckets of the endpoint the grant counted in, as a bit set of their indexes in
 *               {@code EndpointConfig.routeBuckets()}; 0 for none
 * @param units the uses the grant counted (the call's cost), at least 1
 */
public record SecretLease(String endpoint, SecretType type, String secretId, String maskedValue, String value,
                          String leaseId, long acquiredAtNanos, long expiresAtNanos, long routes, int units) {

    /** A grant of one use in no route bucket. */
    public SecretLease(String endpoint, SecretType type, String secretId, String maskedValue, String value,
                       String leaseId, long acquiredAtNanos, long expiresAtNanos) {
        this(endpoint, type, secretId, maskedValue, value, leaseId, acquiredAtNanos, expiresAtNanos, 0, 1);
    }

    public SecretLease {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(maskedValue, "maskedValue");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(leaseId, "leaseId");
        if (units < 1) {
            throw new IllegalArgumentException("units must be >= 1, was " + units);
        }
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
