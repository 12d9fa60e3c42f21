package dev.proxymanager.middleware.spi;

import dev.proxymanager.middleware.cache.CacheStore;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.UsageHistory;

/**
 * Where a {@link dev.proxymanager.middleware.ProxyManager} keeps its response cache and request log, e.g.
 * {@code ElasticsearchBackend} of {@code proxy-manager-middleware-elasticsearch}. Implementations are threadsafe.
 */
public interface CacheAndLogBackend extends AutoCloseable {

    /**
     * The cache store in {@code index}.
     *
     * @param index the index (or table) name; null for the backend's default
     */
    CacheStore cacheStore(String index);

    /**
     * The request log writing to {@code dataStream}.
     *
     * @param dataStream the data stream (or table) name; null for the backend's default
     * @param clock the manager's clock, for the log's retry backoff and deadlines
     */
    RequestLog requestLog(String dataStream, Clock clock);

    /**
     * Reads back the uses that {@link #requestLog(String, Clock) requestLog(dataStream, clock)} recorded, so a restart keeps the
     * counts of limit windows still open.
     *
     * @param dataStream as given to {@link #requestLog(String, Clock)}; null for the backend's default
     */
    UsageHistory usageHistory(String dataStream);

    /** Releases what the backend opened itself (a connection it was given stays open). */
    @Override
    void close();
}
