package dev.proxymanager.middleware.cache;

/**
 * A snapshot of a {@link ResponseCache}'s counters, all since it was built.
 *
 * @param hits calls answered from the cache (stored entry or a shared concurrent call)
 * @param misses calls that went upstream with the cache consulted
 * @param bypasses calls that went upstream without the cache (mode, method, policy, store down)
 * @param staleServed expired entries served because the upstream failed
 * @param storeErrors failed store reads and writes (backend unreachable or rejecting)
 * @param corruptEntries stored entries that could not be read back (served as misses)
 * @param writesDropped responses not stored because the write queue was full
 * @param singleFlightTimeouts waits on an identical in-flight call that gave up and called the upstream
 * @param storeAvailable false while the store is considered down after an error (reads and writes skipped)
 */
public record ResponseCacheStats(long hits, long misses, long bypasses, long staleServed, long storeErrors,
                                 long corruptEntries, long writesDropped, long singleFlightTimeouts,
                                 boolean storeAvailable) {
}
