package dev.proxymanager.middleware.elastic;

import dev.proxymanager.middleware.clock.Clock;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.middleware.cache.CacheStore;
import dev.proxymanager.middleware.cache.ElasticsearchCacheStore;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.log.ElasticsearchUsageHistory;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.UsageHistory;
import dev.proxymanager.middleware.spi.CacheAndLogBackend;

import java.util.Objects;

/**
 * The response cache ({@link ElasticsearchCacheStore}), request log ({@link ElasticsearchRequestLog}) and usage
 * history ({@link ElasticsearchUsageHistory}) on one Elasticsearch client. Give one to
 * {@code ProxyManager.builder().cacheAndLog(ElasticsearchBackend.of(client))} to use a client of your own;
 * {@code ProxyManager.builder().elasticsearch(url)} builds one that owns its client. This class is threadsafe.
 */
public final class ElasticsearchBackend implements CacheAndLogBackend {

    private final ElasticsearchClient client;
    private final boolean ownsClient;

    private ElasticsearchBackend(ElasticsearchClient client, boolean ownsClient) {
        this.client = Objects.requireNonNull(client, "client");
        this.ownsClient = ownsClient;
    }

    /** A backend on {@code client}; the caller keeps ownership ({@link #close()} leaves it open). */
    public static ElasticsearchBackend of(ElasticsearchClient client) {
        return new ElasticsearchBackend(client, false);
    }

    /**
     * A backend on a new client for {@code url} ({@link ElasticsearchClients#create(String)}), closed by
     * {@link #close()}.
     *
     * @throws IllegalArgumentException if the URL is not an http(s) URL
     */
    public static ElasticsearchBackend connect(String url) {
        return new ElasticsearchBackend(ElasticsearchClients.create(Objects.requireNonNull(url, "url")), true);
    }

    /** The client the cache, log and history use. */
    public ElasticsearchClient client() {
        return client;
    }

    /** @param index default {@value ElasticsearchCacheStore#DEFAULT_INDEX} when null */
    @Override
    public CacheStore cacheStore(String index) {
        ElasticsearchCacheStore.Builder b = ElasticsearchCacheStore.builder(client);
        if (index != null) {
            b.withIndex(index);
        }
        return b.build();
    }

    /** @param dataStream default {@value ElasticsearchRequestLog#DEFAULT_DATA_STREAM} when null */
    @Override
    public RequestLog requestLog(String dataStream, Clock clock) {
        ElasticsearchRequestLog.Builder b = ElasticsearchRequestLog.builder(client).withClock(clock);
        if (dataStream != null) {
            b.withDataStream(dataStream);
        }
        return b.build();
    }

    /** @param dataStream default {@value ElasticsearchRequestLog#DEFAULT_DATA_STREAM} when null */
    @Override
    public UsageHistory usageHistory(String dataStream) {
        ElasticsearchUsageHistory.Builder b = ElasticsearchUsageHistory.builder(client);
        if (dataStream != null) {
            b.withDataStream(dataStream);
        }
        return b.build();
    }

    @Override
    public void close() {
        if (ownsClient) {
            ElasticsearchClients.close(client);
        }
    }

    @Override
    public String toString() {
        return "ElasticsearchBackend[ownsClient=" + ownsClient + "]";
    }
}
