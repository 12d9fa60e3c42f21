package dev.proxymanager.middleware.store;

import dev.proxymanager.middleware.quota.UpstreamQuota;

/**
 * Holds what must be shared by every process that rotates the same secrets: recent use times (sliding windows),
 * total uses, leases and cooldowns/removals. Health records and strategy state stay in the engine.
 *
 * <p>Designed so a networked store (Redis) can do each hot-path call in one round trip, as one atomic script:
 * {@link #acquire} takes the engine's preferred candidates in order and grants the first that passes every check;
 * {@link #release} ends a lease and applies the outcome's cooldown in the same call; {@link #giveBack} ends one whose
 * grant sent nothing and withdraws the grant's uses. All times are nanoseconds on
 * the {@link dev.proxymanager.middleware.clock.Clock} timeline (epoch-anchored), passed in by the engine; a store shared
 * by processes may decide on a clock of its own (Redis's) and then answers in the caller's time.
 *
 * <p>Implementations must be threadsafe and must make each call atomic with respect to the others.
 * {@code UsageStoreContractTest} (in the middleware's tests) is the executable contract; every implementation runs it.
 */
public interface UsageStore extends AutoCloseable {

    /**
     * Grants the first candidate (in the given order, among the first {@code count}) that is not removed, not
     * cooling down, has a free lease slot under {@code terms}, and that every one of its limits admits at
     * {@code now}. The grant records a use at {@code now}, adds lease {@code leaseId} (when {@code terms} are
     * leased) until {@code now + ttl}, and starts a cooldown when the use reaches a limit that has one.
     *
     * @return the decision; never {@code null}; nothing is recorded when no candidate is granted
     */
    default StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                  String leaseId, long now) {
        return acquire(endpoint, candidates, count, terms, leaseId, now, 1);
    }

    /**
     * As {@link #acquire(String, StoreCandidate[], int, LeaseTerms, String, long)} for a call that costs
     * {@code units} uses (a weighted call): a candidate is granted only when every limit that counts it (its own,
     * its route buckets', its group's) admits {@code units} more uses at {@code now}, and the grant records
     * {@code units} uses at {@code now} in each of those logs. Total uses and the upstream's remaining (the
     * secret's report and that of each route bucket the call counts in, see {@link #recordQuota}) go down by
     * {@code units} too. One lease, whatever the units.
     *
     * @throws IllegalArgumentException when {@code units < 1}
     */
    StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms, String leaseId,
                          long now, int units);

    /**
     * Ends lease {@code leaseId} (if still held; a no-op otherwise) and applies an outcome: a cooldown until
     * {@code cooldownUntil} when it is later than any current one (0 for none), and removal when {@code remove}.
     *
     * @return the secret's availability afterwards
     */
    Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                         long cooldownUntil, boolean remove);

    /**
     * Ends lease {@code leaseId} (as {@link #release} with no outcome) <em>and</em> withdraws the {@code units} uses
     * its grant recorded at {@code usedAt}, because no request went out with it: from the secret's log, its
     * {@linkplain StoreCandidate#shares() route buckets' and group's} logs ({@code secret} is the grant's candidate,
     * with its routes and group), from total uses, and from what the upstream's last reports are counted down to —
     * the secret's and each of its route buckets' (while the report the grant counted down still holds: learned at
     * or before {@code usedAt}). A cooldown the
     * grant started (a usage cap reached) stays. A store whose clock is not the caller's (Redis) withdraws, in each
     * log, the uses nearest to {@code usedAt} within its match window, as {@link #restamp} finds them. A use no
     * longer held (trimmed, or moved) is not an error: what is found is withdrawn, total uses go down by
     * {@code units} (never below 0).
     *
     * <p>The default, for a store that cannot withdraw a use, only ends the lease: the use stays counted. Both
     * stores of the project withdraw it.
     *
     * @param terms the lease terms; the lease is ended only when {@code terms.leased()}
     * @return the secret's availability afterwards, for a call of one use of {@code secret}
     * @throws IllegalArgumentException when {@code units < 1}
     */
    default Availability giveBack(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId,
                                  long usedAt, long now, int units) {
        if (units < 1) {
            throw new IllegalArgumentException("units must be >= 1, was " + units);
        }
        return release(endpoint, secret, terms, terms.leased() ? leaseId : null, now, 0, false);
    }

    /**
     * Records what the upstream reported about a secret's quota: until {@code quota.resetAt()}, each grant takes
     * one unit off {@code quota.remaining()}, and at 0 the secret is not granted before the reset (as a cooldown
     * ending there), whatever its own limits say. While one holds, a report of the same window keeps the fewer
     * remaining, one of another window replaces it only when learned later ({@link UpstreamQuota#merge}); a report
     * without a reset (or with a past one) changes nothing. The state expires at the reset.
     *
     * <p>{@code secretId} may name a route bucket ({@link StoreCandidate#secretId()} of one of a candidate's
     * {@linkplain StoreCandidate#routes() routes}): the report of a call that counted in that bucket (GitHub's search
     * quota, say) then holds for the bucket alone. Each grant counting in the bucket takes its units off it, and at 0
     * only such grants are refused, until the reset, as if a limit of the bucket were full (an {@link
     * Availability#atLimit} naming the bucket's first limit; a bucket without limits is not held back); calls in no
     * bucket or in other buckets go on. A report under the secret's own id holds for every call of the secret.
     */
    void recordQuota(String endpoint, String secretId, UpstreamQuota quota, long now);

    /**
     * Moves the use granted at {@code usedAt} to {@code now}, because its request is only being written now: the
     * upstream counts it when it arrives, and a use recorded earlier would let a later grant come too soon. It moves
     * only when every limit admits a use at {@code now} without it (a use granted meanwhile may have taken the slot);
     * otherwise it stays at {@code usedAt}. A use no longer held is recorded at {@code now} under the same check.
     * Cooldowns, leases and removal are not checked: the use was granted already. {@code leaseId} is the grant's
     * lease id, which a store whose clock is not the caller's uses to find the use.
     *
     * @return {@link Availability#FREE} at {@code now} when moved; else when it could move and the limit that blocks
     */
    default Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now) {
        return restamp(endpoint, secret, leaseId, usedAt, now, 1);
    }

    /**
     * As {@link #restamp(String, StoreCandidate, String, long, long)} for a grant of {@code units} uses: all of them
     * move together (when every limit admits {@code units} uses at {@code now} without them), or none.
     */
    Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now, int units);

    /** Puts a removed or cooling-down secret back into rotation (clears removal and cooldown). */
    void restore(String endpoint, String secretId);

    /** Takes a secret out of rotation until {@link #restore}. */
    void remove(String endpoint, String secretId);

    /**
     * Adds past uses (e.g. rebuilt from the request log after a restart, or a call's cost learned from its response)
     * to a secret's windows, keeping the newest {@code secret.logCapacity()}, and to the logs of its
     * {@linkplain StoreCandidate#shares() route buckets and group}. They are added to total uses too, so pass each
     * past use once.
     */
    void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes);

    /** A snapshot of one secret, for stats. Never {@code null}: an unknown secret reads as unused. */
    SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now);

    /** Drops everything about a secret that left the configuration. */
    void forget(String endpoint, String secretId);

    /**
     * Whether other processes share this store's state. Then a secret another process has leased frees when that
     * process releases it, which this process does not see: the lease's end is only the latest it frees, so the
     * engine asks again soon instead of waiting for it. The in-memory store is not shared.
     */
    default boolean sharedAcrossProcesses() {
        return false;
    }

    /** Releases the store's resources; the in-memory store has none. */
    @Override
    default void close() {
    }
}
