package dev.proxymanager.middleware;

import dev.proxymanager.middleware.clock.Clock;

import dev.proxymanager.middleware.cache.CacheStore;
import dev.proxymanager.middleware.cache.InMemoryCacheStore;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.SecretUsage;
import dev.proxymanager.middleware.log.UsageHistory;
import dev.proxymanager.middleware.spi.CacheAndLogBackend;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cache-and-log backend in this process: an {@link InMemoryCacheStore}, an {@link InMemoryRequestLog} and a
 * usage history of the uses given to {@link #remember}. For tests of the core's wiring; shared with the backend
 * modules through the test-jar.
 */
public final class InMemoryCacheAndLogBackend implements CacheAndLogBackend {

    private final InMemoryCacheStore cacheStore = new InMemoryCacheStore();
    private final InMemoryRequestLog requestLog = new InMemoryRequestLog();
    private final List<SecretUsage> history = new CopyOnWriteArrayList<>();
    private final AtomicInteger historyReads = new AtomicInteger();

    /** Adds {@code uses} to what the usage history answers. */
    public InMemoryCacheAndLogBackend remember(SecretUsage uses) {
        history.add(uses);
        return this;
    }

    /** How many times the usage history was read. */
    public int historyReads() {
        return historyReads.get();
    }

    @Override
    public CacheStore cacheStore(String index) {
        return cacheStore;
    }

    @Override
    public RequestLog requestLog(String dataStream, Clock clock) {
        return requestLog;
    }

    @Override
    public UsageHistory usageHistory(String dataStream) {
        return new UsageHistory() {
            @Override
            public List<SecretUsage> usesSince(Instant since) {
                historyReads.incrementAndGet();
                return history.stream().map(u -> since(u, since)).toList();
            }

            @Override
            public List<SecretUsage> usesSince(String endpoint, Instant since) {
                historyReads.incrementAndGet();
                return history.stream().filter(u -> u.endpoint().equals(endpoint)).map(u -> since(u, since)).toList();
            }
        };
    }

    private static SecretUsage since(SecretUsage u, Instant since) {
        return new SecretUsage(u.endpoint(), u.secretId(), u.timestamps().stream().filter(t -> !t.isBefore(since))
                .toList());
    }

    @Override
    public void close() {
    }
}
