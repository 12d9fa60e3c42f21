package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.UnavailableCause;

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
     * @param cause why the earliest secret is not free ({@link UnavailableCause#REMOVED} when every secret is;
     *              never {@link UnavailableCause#READY})
     * @param reason a sentence for people, e.g. {@code all proxies of 'search' have reached rate limit
     *               (30 requests/60 s); next free in 12 s}
     * @param retryAfter when the earliest secret frees up (a suggestion of 60 s when every secret is removed)
     * @param limit for {@link UnavailableCause#AT_LIMIT}, the limit that binds; else {@code null}
     */
    record Denied(String endpoint, UnavailableCause cause, String reason, Duration retryAfter, LimitConfig limit)
            implements AcquireResult {
        public Denied {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(retryAfter, "retryAfter");
            if (cause == UnavailableCause.READY) {
                throw new IllegalArgumentException("a denial needs a cause other than READY");
            }
            if ((cause == UnavailableCause.AT_LIMIT) != (limit != null)) {
                throw new IllegalArgumentException("the binding limit is given exactly when the cause is AT_LIMIT, was "
                        + limit + " with " + cause);
            }
        }

        /** A denial for any cause but {@link UnavailableCause#AT_LIMIT}. */
        public Denied(String endpoint, UnavailableCause cause, String reason, Duration retryAfter) {
            this(endpoint, cause, reason, retryAfter, null);
        }
    }
}
