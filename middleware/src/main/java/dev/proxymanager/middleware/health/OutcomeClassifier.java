package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.config.HealthPolicy;

import java.util.Objects;

/**
 * The one place an attempt's {@link Outcome} becomes an {@link OutcomeKind}. Every caller that asks "was this a
 * ban, a throttle, a failure?" goes through here, so health, retries, the circuit breaker, the request log and
 * metrics cannot disagree. Rules, in order:
 * <ol>
 *   <li>a status in {@code ban_statuses} is {@link OutcomeKind#BANNED} — 429 included when it is listed (the
 *       default): the list is the user's word on what means "this secret is refused";</li>
 *   <li>a response whose body prefix holds {@code ban_body_pattern} is {@link OutcomeKind#BANNED} whatever its
 *       status (a captcha page served with 200);</li>
 *   <li>any other 429 is {@link OutcomeKind#RATE_LIMITED};</li>
 *   <li>any other 5xx is {@link OutcomeKind#SERVER_ERROR}, any other 4xx {@link OutcomeKind#CLIENT_ERROR}, the rest
 *       {@link OutcomeKind#SUCCESS};</li>
 *   <li>a connection error is {@link OutcomeKind#BANNED} with {@code ban_on_connection_error}, else
 *       {@link OutcomeKind#CONNECTION_ERROR}; a timeout is {@link OutcomeKind#TIMEOUT}.</li>
 * </ol>
 * This class is threadsafe (stateless).
 */
public final class OutcomeClassifier {

    private OutcomeClassifier() {
    }

    /**
     * The kind of {@code outcome} under {@code policy}.
     *
     * @throws NullPointerException if an argument is null
     */
    public static OutcomeKind classify(Outcome outcome, HealthPolicy policy) {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(policy, "policy");
        return switch (outcome.kind()) {
            case RESPONSE -> bannedByBody(outcome.bodyPrefix(), policy)
                    ? OutcomeKind.BANNED : classifyStatus(outcome.status(), policy);
            case CONNECTION_ERROR -> policy.banOnConnectionError() ? OutcomeKind.BANNED : OutcomeKind.CONNECTION_ERROR;
            case TIMEOUT -> OutcomeKind.TIMEOUT;
            case UNUSED -> OutcomeKind.UNUSED;
        };
    }

    /** Whether {@code bodyPrefix} (may be null: not read) holds the policy's {@code ban_body_pattern}. */
    public static boolean bannedByBody(String bodyPrefix, HealthPolicy policy) {
        return bodyPrefix != null && policy.banBodyPattern() != null && policy.banBodyPattern().foundIn(bodyPrefix);
    }

    /** Whether an answer with {@code status} should have its body read for {@code policy} before it is classified. */
    public static boolean needsBody(HealthPolicy policy) {
        return policy.banBodyPattern() != null;
    }

    /**
     * The kind of an upstream answer with {@code status} under {@code policy}, its body unseen.
     *
     * @throws IllegalArgumentException if {@code status} is not 100–599
     */
    public static OutcomeKind classifyStatus(int status, HealthPolicy policy) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status must be an HTTP status 100-599, was " + status);
        }
        if (policy.banStatuses().contains(status)) {
            return OutcomeKind.BANNED;
        }
        if (status == 429) {
            return OutcomeKind.RATE_LIMITED;
        }
        if (status >= 500) {
            return OutcomeKind.SERVER_ERROR;
        }
        return status >= 400 ? OutcomeKind.CLIENT_ERROR : OutcomeKind.SUCCESS;
    }
}
