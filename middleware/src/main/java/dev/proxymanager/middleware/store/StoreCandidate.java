package dev.proxymanager.middleware.store;

import java.util.List;
import java.util.Objects;

/**
 * A secret the engine proposes to the store, with every limit that applies to the call (its endpoint's and its own)
 * and the other logs a use of it is recorded in: the secret's <em>route buckets</em> the call matches (limits with a
 * {@code match}, each with a log of its own per secret) and, when it belongs to a quota group, the group (whose uses
 * the store keeps under the group's id, limits being the group's). A grant records its units in every one of these
 * logs, and a limit of any of them refuses it. Immutable and threadsafe; the engine keeps one per secret and kind of
 * call and reuses it.
 *
 * @param routes the route buckets this call counts against, each a candidate whose id names its log (unique per
 *               secret and bucket) and whose limits are the bucket's; in an {@link Availability}, their limits
 *               follow the secret's, in this order
 * @param group the secret's quota group, or {@code null}; in an {@link Availability}, the group's limits come last
 */
public final class StoreCandidate {

    private final String secretId;
    private final List<UsageLimit> limits;
    private final List<StoreCandidate> routes;
    private final StoreCandidate group;
    private final List<StoreCandidate> shares;
    // worked out once: the stores ask for them on every call
    private final int allLimits;
    private final int logCapacity;
    private final int maxUnits;

    public StoreCandidate(String secretId, List<UsageLimit> limits, List<StoreCandidate> routes,
                          StoreCandidate group) {
        this.secretId = Objects.requireNonNull(secretId, "secretId");
        this.limits = List.copyOf(limits);
        this.routes = List.copyOf(routes);
        this.group = group;
        for (StoreCandidate r : routes) {
            if (!r.routes().isEmpty() || r.group() != null) {
                throw new IllegalArgumentException("a route bucket has only limits, was " + r.secretId());
            }
        }
        if (group != null && (group.group() != null || !group.routes().isEmpty())) {
            throw new IllegalArgumentException("a group has only limits, was " + group.secretId());
        }
        if (group == null) {
            shares = this.routes;
        } else {
            StoreCandidate[] all = this.routes.toArray(new StoreCandidate[this.routes.size() + 1]);
            all[this.routes.size()] = group;
            shares = List.of(all);
        }
        int all = this.limits.size();
        int capacity = 0;
        int units = Integer.MAX_VALUE;
        for (UsageLimit l : this.limits) {
            capacity = Math.max(capacity, l.requests());
            units = Math.min(units, l.requests());
        }
        for (StoreCandidate share : shares) {
            all += share.limits().size();
            units = Math.min(units, share.maxUnits());
        }
        this.allLimits = all;
        this.logCapacity = capacity;
        this.maxUnits = units;
    }

    /** The secret's id (for a route bucket or a group: the id of its log). */
    public String secretId() {
        return secretId;
    }

    /** The limits of the secret's own log. */
    public List<UsageLimit> limits() {
        return limits;
    }

    /** The route buckets this call counts against. */
    public List<StoreCandidate> routes() {
        return routes;
    }

    /** The quota group, or {@code null}. */
    public StoreCandidate group() {
        return group;
    }

    /** Not in a group, no route buckets. */
    public StoreCandidate(String secretId, List<UsageLimit> limits) {
        this(secretId, limits, List.of(), null);
    }

    /** No route buckets. */
    public StoreCandidate(String secretId, List<UsageLimit> limits, StoreCandidate group) {
        this(secretId, limits, List.of(), group);
    }

    /** The number of limits an {@link Availability} may name: the secret's, then its routes', then its group's. */
    public int allLimits() {
        return allLimits;
    }

    /**
     * The logs a use is recorded in besides the secret's own, in {@link Availability} order: the routes, then the
     * group.
     */
    public List<StoreCandidate> shares() {
        return shares;
    }

    /** How many past uses the store must keep to decide these limits: the largest {@code requests}. */
    public int logCapacity() {
        return logCapacity;
    }

    /**
     * The most units one grant may take: the smallest {@code requests} of every limit that counts it (a grant larger
     * than a limit could never be made). {@link Integer#MAX_VALUE} without limits.
     */
    public int maxUnits() {
        return maxUnits;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoreCandidate c && secretId.equals(c.secretId) && limits.equals(c.limits)
                && routes.equals(c.routes) && Objects.equals(group, c.group);
    }

    @Override
    public int hashCode() {
        return Objects.hash(secretId, limits, routes, group);
    }

    @Override
    public String toString() {
        return "StoreCandidate[" + secretId + ", limits=" + limits + (routes.isEmpty() ? "" : ", routes=" + routes)
                + (group == null ? "" : ", group=" + group) + "]";
    }
}
