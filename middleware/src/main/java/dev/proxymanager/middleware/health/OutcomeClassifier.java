package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.config.HealthPolicy;

import java.util.Objects;

/**
 * The one place an attempt's {@link Outcome} becomes an {@link OutcomeKind}. Every caller that asks "was this a
 * ban, a throttle, a failure?" goes through here, so health, retries, the circuit breaker, the request log and
 * metrics cannot disagree. Rules, in order:
 * <ol>
 *   <li>a 429 that means "limit reached" is {@link OutcomeKind#RATE_LIMITED}, never a ban: our own count says the
 *       secret is at or near its window's limit ({@link LimitState#nearLimit()}), or the upstream said when to come
 *       back ({@code Retry-After}); see {@link #limitReached};</li>
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
     * The kind of {@code outcome} under {@code policy}, without knowing the secret's windows: only a
     * {@code Retry-After} makes a 429 "limit reached". The engine knows more and classifies with
     * {@link #classify(Outcome, HealthPolicy, LimitState)}; its answer is what {@code RotationEngine.release} returns.
     *
     * @throws NullPointerException if an argument is null
     */
    public static OutcomeKind classify(Outcome outcome, HealthPolicy policy) {
        return classify(outcome, policy, LimitState.UNKNOWN);
    }

    /**
     * The kind of {@code outcome} under {@code policy}, given what the engine's count said about the secret's windows
     * when the outcome was reported.
     *
     * @throws NullPointerException if an argument is null
     */
    public static OutcomeKind classify(Outcome outcome, HealthPolicy policy, LimitState limits) {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(limits, "limits");
        if (limitReached(outcome, limits)) {
            return OutcomeKind.RATE_LIMITED;
        }
        return switch (outcome.kind()) {
            case RESPONSE -> bannedByBody(outcome.bodyPrefix(), policy)
                    ? OutcomeKind.BANNED : classifyStatus(outcome.status(), policy);
            case CONNECTION_ERROR -> policy.banOnConnectionError() ? OutcomeKind.BANNED : OutcomeKind.CONNECTION_ERROR;
            case TIMEOUT -> OutcomeKind.TIMEOUT;
            case UNUSED, UNANSWERED -> OutcomeKind.UNUSED; // logged alike: only the store tells them apart
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
     * Whether {@code outcome} is a 429 that means "limit reached" rather than "this secret is refused": the secret
     * was at or near a window's limit ({@link LimitState#nearLimit()}) or the 429 carries a positive
     * {@code Retry-After}. The secret then cools down until its next free slot or the Retry-After, whichever is
     * later, without a ban backoff ({@link HealthRules}).
     */
    public static boolean limitReached(Outcome outcome, LimitState limits) {
        return outcome.kind() == Outcome.Kind.RESPONSE && outcome.status() == 429
                && (limits.nearLimit() || (outcome.retryAfter() != null && outcome.retryAfter().isPositive()));
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
