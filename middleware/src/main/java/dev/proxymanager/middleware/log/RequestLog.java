package dev.proxymanager.middleware.log;

/**
 * Where request-log documents go. {@link #record} never blocks and never throws for a backend problem: past the
 * buffer's bound, documents are dropped and counted in {@link #droppedCount()}.
 *
 * <p>Implementations: {@code ElasticsearchRequestLog} (artifact {@code proxy-manager-middleware-elasticsearch}),
 * {@link InMemoryRequestLog}. They are threadsafe.
 */
public interface RequestLog extends AutoCloseable {

    /** Queues one attempt's document. Never blocks; never throws for a backend problem. */
    void record(RequestLogEntry entry);

    /** Queues a secret state-change document. Never blocks; never throws for a backend problem. */
    void record(SecretEvent event);

    /** Documents accepted but not yet delivered. */
    int bufferedCount();

    /** Documents lost so far: buffer full, rejected by the backend, or undelivered at close. */
    long droppedCount();

    /** Documents delivered so far. */
    long deliveredCount();

    /** Delivers what is buffered, waiting a bounded time; then releases resources. */
    @Override
    void close();

    /** A log that keeps nothing. */
    static RequestLog noop() {
        return new RequestLog() {
            @Override
            public void record(RequestLogEntry entry) {
            }

            @Override
            public void record(SecretEvent event) {
            }

            @Override
            public int bufferedCount() {
                return 0;
            }

            @Override
            public long droppedCount() {
                return 0;
            }

            @Override
            public long deliveredCount() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
    }
}
