package dev.proxymanager.middleware.health;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.Durations;
import dev.proxymanager.middleware.config.HealthPolicy;
import dev.proxymanager.middleware.transport.Backoff;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Applies a {@link HealthPolicy} to one outcome, as {@link OutcomeClassifier} classifies it: updates the secret's
 * {@link HealthRecord} and decides any cooldown or removal. A {@linkplain OutcomeKind#secretFailure() failure} is
 * counted by rules 2–3; anything else but {@link OutcomeKind#UNUSED} is a success. First, a 429 that means "limit
 * reached" ({@link OutcomeClassifier#limitReached}: the secret was at or near a window's limit, or the 429 carries a
 * Retry-After) cools the secret until the later of its window's next free slot and the Retry-After — no backoff, no
 * ban streak, neither a failure nor a success. Otherwise, in order (the longest cooldown wins):
 * <ol>
 *   <li>{@link OutcomeKind#BANNED} → backoff {@code base·2^(n-1)} capped at {@code backoff_max}, plus jitter in
 *       {@code [0, base)}, n = consecutive bans;</li>
 *   <li>{@code failures} failures within {@code per} → {@code failure_window.cooldown} (the window restarts);</li>
 *   <li>every {@code max_consecutive_failures}-th failure in a row → {@code consecutive_failures_cooldown};</li>
 *   <li>an upstream {@code Retry-After} → at least that long;</li>
 *   <li>{@link OutcomeKind#RATE_LIMITED} (a 429 not in {@code ban_statuses}) without a Retry-After →
 *       {@code backoff_base}: the upstream throttles the secret, so it is not handed straight back.</li>
 * </ol>
 * With {@code remove_unhealthy}, rules 1–3 remove the secret instead. This class is threadsafe (stateless).
 */
public final class HealthRules {

    private HealthRules() {
    }

    /**
     * Records {@code outcome} at {@code now} in {@code record} and returns what to do, not knowing the secret's
     * windows ({@link LimitState#UNKNOWN}).
     *
     * @param random source of backoff jitter
     */
    public static HealthVerdict apply(HealthPolicy policy, HealthRecord record, Outcome outcome, long now,
                                      RandomGenerator random) {
        return apply(policy, record, outcome, LimitState.UNKNOWN, now, random);
    }

    /**
     * Records {@code outcome} at {@code now} in {@code record}, given what the engine's count said about the secret's
     * windows, and returns what to do.
     *
     * @param random source of backoff jitter
     */
    public static HealthVerdict apply(HealthPolicy policy, HealthRecord record, Outcome outcome, LimitState limits,
                                      long now, RandomGenerator random) {
        OutcomeKind kind = OutcomeClassifier.classify(outcome, policy, limits);
        if (kind == OutcomeKind.UNUSED) {
            return HealthVerdict.NOTHING;
        }
        if (OutcomeClassifier.limitReached(outcome, limits)) {
            return limitReached(outcome, limits, now);
        }
        boolean ban = kind == OutcomeKind.BANNED;
        boolean failure = kind.secretFailure();
        long until = 0;
        String reason = null;
        boolean unhealthy = false;
        if (!failure) {
            record.successes++;
            record.consecutiveFailures = 0;
            record.consecutiveBans = 0;
        } else {
            record.failures++;
            record.consecutiveFailures++;
            record.recentFailures.record(now);
            if (ban) {
                record.consecutiveBans++;
                long base = policy.backoffBase().toNanos();
                long backoff = Clock.plus(banBackoff(policy).ceilingNanos(record.consecutiveBans),
                        (long) (random.nextDouble() * base));
                until = now + backoff;
                reason = "ban signal (" + describe(outcome) + "), backoff " + record.consecutiveBans;
                unhealthy = true;
            }
            long per = policy.failureWindow().toNanos();
            if (record.recentFailures.reached(policy.failureWindowFailures(), per, now)) {
                long u = now + policy.failureWindowCooldown().toNanos();
                if (u >= until) {
                    until = u;
                    reason = policy.failureWindowFailures() + " failures within "
                            + Durations.describe(policy.failureWindow());
                }
                unhealthy = true;
                record.recentFailures.resize(0); // the window restarts after its cooldown (seed D resets counts)
                record.recentFailures.resize(policy.failureWindowFailures());
            }
            if (record.consecutiveFailures % policy.maxConsecutiveFailures() == 0) {
                long u = now + policy.consecutiveFailuresCooldown().toNanos();
                if (u >= until) {
                    until = u;
                    reason = record.consecutiveFailures + " consecutive failures";
                }
                unhealthy = true;
            }
        }
        boolean remove = unhealthy && policy.removeUnhealthy();
        if (outcome.retryAfter() != null && !outcome.retryAfter().isZero()) {
            long u = now + outcome.retryAfter().toNanos();
            if (u > until) {
                until = u;
                reason = "upstream Retry-After " + Durations.describe(outcome.retryAfter());
            }
        } else if (kind == OutcomeKind.RATE_LIMITED) {
            long u = now + policy.backoffBase().toNanos();
            if (u > until) {
                until = u;
                reason = "rate limited (" + describe(outcome) + "), cooldown "
                        + Durations.describe(policy.backoffBase());
            }
        }
        if (remove) {
            reason = reason + "; remove_unhealthy is on";
        }
        if (!failure && until == 0) {
            return HealthVerdict.NOTHING;
        }
        return new HealthVerdict(failure, until, remove, ban, reason);
    }

    /**
     * The secret is full, not refused: it cools until the later of its next free slot and the Retry-After, and its
     * record is left alone, so two in a row do not grow anything.
     */
    private static HealthVerdict limitReached(Outcome outcome, LimitState limits, long now) {
        long until = limits.nearLimit() ? limits.nextFreeSlot() : 0;
        String reason = "limit reached (status 429), cooldown until the window's next free slot";
        Duration retryAfter = outcome.retryAfter();
        if (retryAfter != null && retryAfter.isPositive() && Clock.plus(now, retryAfter.toNanos()) > until) {
            until = Clock.plus(now, retryAfter.toNanos());
            reason = "limit reached (status 429), upstream Retry-After " + Durations.describe(retryAfter);
        }
        if (until <= now) {
            return HealthVerdict.NOTHING; // the window has a free slot again: the limit itself spaces the next use
        }
        return new HealthVerdict(false, until, false, false, reason);
    }

    /** The project's one backoff, with this policy's base and cap (a cap below the base caps every step). */
    private static Backoff banBackoff(HealthPolicy policy) {
        Duration max = policy.backoffMax();
        Duration base = policy.backoffBase().compareTo(max) > 0 ? max : policy.backoffBase();
        return Backoff.exponential(base, max);
    }

    private static String describe(Outcome o) {
        return switch (o.kind()) {
            case RESPONSE -> "status " + o.status();
            case CONNECTION_ERROR -> "connection error";
            case TIMEOUT -> "timeout";
            case UNUSED -> "unused";
            case UNANSWERED -> "unanswered";
        };
    }

    /** The cooldown a ban streak of {@code n} gets before jitter (for docs and tests). */
    public static Duration backoff(HealthPolicy policy, int n) {
        return Duration.ofNanos(banBackoff(policy).ceilingNanos(n));
    }
}
