package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.lease.SecretLease;

import java.time.Duration;
import java.util.Objects;

/**
 * The answer to {@link RotationEngine#acquire(String)}: a {@link Granted} lease, or {@link Denied} with a reason and
 * when to try again. "Nothing available" is an expected outcome, so it is a value, not an exception.
 */
public sealed interface AcquireResult permits AcquireResult.Granted, AcquireResult.Denied {

    /** A secret was handed out; release it with {@link RotationEngine#release}. */
    record Granted(SecretLease lease) implements AcquireResult {
        public Granted {
            Objects.requireNonNull(lease, "lease");
        }
    }

    /**
     * No secret can be used now.
     *
     * @param endpoint the endpoint asked for
     * @param cause why the earliest secret is not free
     * @param reason a sentence for people, e.g. {@code all proxies of 'search' have reached rate limit
     *               (30 requests/60 s); next free in 12 s}
     * @param retryAfter when the earliest secret frees up (a suggestion of 60 s when every secret is removed)
     */
    record Denied(String endpoint, Cause cause, String reason, Duration retryAfter) implements AcquireResult {
        public Denied {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(retryAfter, "retryAfter");
        }
    }

    /** Why a request was denied: the state of the secret that frees up first. */
    enum Cause {
        /** A sliding-window limit is reached. */
        RATE_LIMITED,
        /** Cooling down after failures, a ban, a Retry-After or a usage cap. */
        COOLING_DOWN,
        /** Held by other callers (exclusive or shared leases). */
        LEASED,
        /** Every secret is out of rotation until restored. */
        ALL_REMOVED,
        /** The usage store is unreachable and its failure mode is fail-closed. */
        STORE_UNAVAILABLE,
        /** The usage store answered with an error that is not an outage (e.g. a script error); limits are never skipped. */
        STORE_FAILED
    }
}
