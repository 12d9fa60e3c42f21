package dev.proxymanager.middleware.cache;

import java.util.Objects;

/**
 * A response and where it came from.
 *
 * @param response the response to hand to the caller
 * @param status where it came from
 */
public record CacheResult(CachedResponse response, CacheStatus status) {
    public CacheResult {
        Objects.requireNonNull(response, "response");
        Objects.requireNonNull(status, "status");
    }

    /** True when no upstream call was made for this caller ({@link CacheStatus#HIT} or {@link CacheStatus#STALE}). */
    public boolean fromCache() {
        return status == CacheStatus.HIT || status == CacheStatus.STALE;
    }
}
