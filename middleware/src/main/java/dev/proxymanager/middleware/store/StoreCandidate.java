package dev.proxymanager.middleware.store;

import java.util.List;
import java.util.Objects;

/**
 * A secret the engine proposes to the store, with every limit that applies to it (its endpoint's and its own) and,
 * when it belongs to a quota group, the group (whose uses the store keeps under the group's id, limits being the
 * group's). Immutable and threadsafe; the engine keeps one per secret and reuses it.
 *
 * @param group the secret's quota group, or {@code null}; a grant records a use in both, and a limit of either
 *              refuses it. In an {@link Availability}, the group's limit {@code j} has index {@code limits.size() + j}
 */
public record StoreCandidate(String secretId, List<UsageLimit> limits, StoreCandidate group) {

    public StoreCandidate {
        Objects.requireNonNull(secretId, "secretId");
        limits = List.copyOf(limits);
        if (group != null && group.group() != null) {
            throw new IllegalArgumentException("a group cannot be in a group, was " + group.secretId());
        }
    }

    /** Not in a group. */
    public StoreCandidate(String secretId, List<UsageLimit> limits) {
        this(secretId, limits, null);
    }

    /** The number of limits an {@link Availability} may name: the secret's, then its group's. */
    public int allLimits() {
        return limits.size() + (group == null ? 0 : group.limits().size());
    }

    /** How many past uses the store must keep to decide these limits: the largest {@code requests}. */
    public int logCapacity() {
        int max = 0;
        for (UsageLimit l : limits) {
            max = Math.max(max, l.requests());
        }
        return max;
    }
}
