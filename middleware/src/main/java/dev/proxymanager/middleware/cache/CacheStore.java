package dev.proxymanager.middleware.cache;

import java.time.Instant;
import java.util.Optional;

/**
 * Where cached responses live. Implementations: {@code ElasticsearchCacheStore} (production, artifact
 * {@code proxy-manager-middleware-elasticsearch}) and {@link InMemoryCacheStore} (unit tests). Every implementation passes the same contract test.
 *
 * <p>A store returns entries whether fresh or expired — freshness is the {@link ResponseCache}'s decision.
 * Implementations must be threadsafe.
 */
public interface CacheStore extends AutoCloseable {

    /**
     * Reads the entry stored under {@code id} (a {@link CacheKey#id()}), as of now (real-time).
     *
     * @return the entry with its times, or empty when there is none
     * @throws CorruptCacheEntryException if the stored entry cannot be read back
     * @throws CacheStoreException if the backend cannot be reached
     */
    Optional<CachedResponse> get(String id);

    /**
     * Stores {@code response} under {@code key}, replacing any previous entry. The response must carry its times
     * ({@link CachedResponse#withTimes}).
     *
     * @throws IllegalArgumentException if the response has no times
     * @throws CacheStoreException if the backend cannot be reached
     */
    void put(CacheKey key, CachedResponse response);

    /**
     * Removes the entry under {@code id}, if any.
     *
     * @throws CacheStoreException if the backend cannot be reached
     */
    void delete(String id);

    /**
     * Removes every entry whose expiry is before {@code cutoff}.
     *
     * @return how many entries were removed
     * @throws CacheStoreException if the backend cannot be reached
     */
    long purgeExpiredBefore(Instant cutoff);

    /** Releases resources the store owns (not a client it was given). */
    @Override
    void close();
}
