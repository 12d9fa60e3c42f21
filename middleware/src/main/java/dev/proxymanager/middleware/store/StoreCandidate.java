package dev.proxymanager.middleware.store;

import java.util.List;
import java.util.Objects;

/**
 * A secret the engine proposes to the store, with every limit that applies to it (its endpoint's and its own).
 * Immutable and threadsafe; the engine keeps one per secret and reuses it.
 */
public record StoreCandidate(String secretId, List<UsageLimit> limits) {

    public StoreCandidate {
        Objects.requireNonNull(secretId, "secretId");
        limits = List.copyOf(limits);
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
