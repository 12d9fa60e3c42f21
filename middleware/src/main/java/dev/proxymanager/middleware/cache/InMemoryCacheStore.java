package dev.proxymanager.middleware.cache;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A {@link CacheStore} in a map, for unit tests and for running without Elasticsearch. Unbounded: purge it.
 *
 * <p>This class is threadsafe.
 */
public final class InMemoryCacheStore implements CacheStore {
    private final ConcurrentMap<String, CachedResponse> entries = new ConcurrentHashMap<>();

    @Override
    public Optional<CachedResponse> get(String id) {
        return Optional.ofNullable(entries.get(Objects.requireNonNull(id, "id")));
    }

    @Override
    public void put(CacheKey key, CachedResponse response) {
        if (response.expiresAt().isEmpty()) {
            throw new IllegalArgumentException("a cached response needs its times (withTimes) before put");
        }
        entries.put(key.id(), response);
    }

    @Override
    public void delete(String id) {
        entries.remove(id);
    }

    @Override
    public long purgeExpiredBefore(Instant cutoff) {
        long[] removed = {0};
        entries.entrySet().removeIf(e -> {
            boolean expired = e.getValue().expiresAt().orElseThrow().isBefore(cutoff);
            if (expired) {
                removed[0]++;
            }
            return expired;
        });
        return removed[0];
    }

    /** How many entries are held. */
    public int size() {
        return entries.size();
    }

    @Override
    public void close() {
        entries.clear();
    }
}
