package dev.proxymanager.middleware.log;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkIngester;
import co.elastic.clients.elasticsearch._helpers.bulk.BulkListener;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.backend.BackendGate;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.elastic.IndexTemplates;
import dev.proxymanager.middleware.transport.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The request log in an Elasticsearch data stream (default {@value #DEFAULT_DATA_STREAM}), auto-created from the
 * index template in {@code request-log-template.json}, which this class installs when no template of the data
 * stream's name exists (matching exactly that name, with the configured {@code number_of_replicas}); a template the
 * operator installed — e.g. with an ILM policy by the docker-compose setup — is kept. Where the cluster has an
 * ILM policy named like the data stream, the installed template uses it; where it has none (or no ILM, like the
 * local node), an INFO line says so.
 *
 * <p>{@link #record} puts the document in a bounded buffer and returns at once; one background thread feeds the
 * buffer to the client's {@link BulkIngester}. While Elasticsearch is slow or down, documents stay in the buffer
 * (failed bulks are put back, retried with exponential backoff); once {@link Builder#withBufferSize the bound} is
 * reached, new documents are dropped, counted ({@link #droppedCount()}) and reported by a WARN line with the
 * key-value {@value LogFields#LOG_DOCUMENTS_DROPPED} (at most one per 10 s). Delivery is at least once: a bulk whose
 * response was lost (timeout) is sent again and may duplicate its documents — generated ids would prevent that but
 * cost about a third of the indexing throughput. Documents the cluster rejects
 * (e.g. a mapping conflict) are dropped and counted too; {@code 429} rejections are retried.
 *
 * <p>{@link #close()} delivers what is buffered, waiting at most {@link Builder#withCloseTimeout}; documents still
 * undelivered then are counted as dropped. The client is the caller's and is not closed. This class is threadsafe.
 */
public final class ElasticsearchRequestLog implements RequestLog {
    private static final Logger LOG = LoggerFactory.getLogger(ElasticsearchRequestLog.class);

    /** The default data stream name. */
    public static final String DEFAULT_DATA_STREAM = "proxy-manager-requests";
    /** Classpath resource (next to this class) holding the index template. */
    public static final String TEMPLATE_RESOURCE = "request-log-template.json";
    /** Default buffer bound: 100 000 documents. */
    public static final int DEFAULT_BUFFER_SIZE = 100_000;

    private static final ObjectNode TEMPLATE = IndexTemplates.load(ElasticsearchRequestLog.class, TEMPLATE_RESOURCE);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** How long the drainer sleeps when the buffer is empty: short next to the flush interval. */
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private record Doc(Map<String, Object> source) {
    }

    /** What {@link Listener} reads of a bulk response ({@code _index} and {@code status} are required by the client). */
    public static final String BULK_RESPONSE_FIELDS = "took,errors,items.*._index,items.*.status,items.*.error";

    private final ElasticsearchClient client;
    private final String dataStream;
    private final int replicas;
    private final int bufferSize;
    private final Duration closeTimeout;

    private final ConcurrentLinkedDeque<Doc> queue = new ConcurrentLinkedDeque<>(); // lock-free: every request adds to it
    private final AtomicInteger pending = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder failedBulks = new LongAdder();
    private final Clock clock;
    private final AtomicLong lastDropWarn;
    private final ScheduledExecutorService scheduler;
    private final BulkIngester<Doc> ingester;
    private final Thread drainer;

    private volatile boolean running = true;
    private volatile boolean closed;
    private volatile boolean templateInstalled;
    /** Holds documents back after a failed delivery, for the retry backoff; then the drainer tries again. */
    private final BackendGate deliveryGate;

    private ElasticsearchRequestLog(Builder b) {
        this.client = b.client;
        this.dataStream = b.dataStream;
        this.replicas = b.replicas;
        this.bufferSize = b.bufferSize;
        this.deliveryGate = new BackendGate(Backoff.exponential(b.retryMin, b.retryMax));
        this.closeTimeout = b.closeTimeout;
        this.clock = b.clock;
        this.lastDropWarn = new AtomicLong(clock.nanoTime() - WARN_EVERY_NANOS);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "proxy-manager-request-log-flush");
            t.setDaemon(true);
            return t;
        });
        // the node answers each document with ~230 bytes (id, version, shards, sequence numbers) that we never read;
        // filtered to what the listener uses, parsing the answer costs the client (and the node) far less
        ElasticsearchClient bulkClient = client.withTransportOptions(o -> o.setParameter("filter_path",
                BULK_RESPONSE_FIELDS));
        this.ingester = BulkIngester.of(i -> i.client(bulkClient)
                .maxOperations(b.maxBatch)
                .maxConcurrentRequests(b.maxConcurrentRequests)
                .flushInterval(b.flushInterval.toMillis(), TimeUnit.MILLISECONDS, scheduler)
                .listener(new Listener()));
        this.drainer = new Thread(this::drain, "proxy-manager-request-log");
        this.drainer.setDaemon(true);
        this.drainer.start();
    }

    /** Starts a request log that writes with {@code client}. */
    public static Builder builder(ElasticsearchClient client) {
        return new Builder(client);
    }

    /** The data stream name. */
    public String dataStream() {
        return dataStream;
    }

    @Override
    public void record(RequestLogEntry entry) {
        offer(entry.toDocument());
    }

    @Override
    public void record(SecretEvent event) {
        offer(event.toDocument());
    }

    private void offer(Map<String, Object> source) {
        if (!running || pending.incrementAndGet() > bufferSize) {
            if (running) {
                pending.decrementAndGet();
            }
            drop(1, running ? "buffer full" : "log closed");
            return;
        }
        queue.offerLast(new Doc(source));
    }

    @Override
    public int bufferedCount() {
        return Math.max(0, pending.get());
    }

    @Override
    public long droppedCount() {
        return dropped.sum();
    }

    @Override
    public long deliveredCount() {
        return delivered.sum();
    }

    /** Bulk requests that failed as a whole (Elasticsearch unreachable) so far; their documents were retried. */
    public long failedBulkCount() {
        return failedBulks.sum();
    }

    private void drop(int count, String why) {
        dropped.add(count);
        long now = clock.nanoTime();
        long last = lastDropWarn.get();
        if (now - last >= WARN_EVERY_NANOS && lastDropWarn.compareAndSet(last, now)) {
            LOG.atWarn().addKeyValue(LogFields.LOG_DOCUMENTS_DROPPED, dropped.sum())
                    .addKeyValue(LogFields.LOG_BUFFER_SIZE, pending.get())
                    .log("request log documents dropped ({}); buffer bound {}", why, bufferSize);
        }
    }

    private void drain() {
        long closeDeadline = Long.MAX_VALUE;
        while (!closed) {
            if (!running) {
                if (closeDeadline == Long.MAX_VALUE) {
                    closeDeadline = clock.nanoTime() + closeTimeout.toNanos();
                }
                if (pending.get() == 0 || clock.nanoTime() - closeDeadline > 0) {
                    return;
                }
            }
            long now = clock.nanoTime();
            long wait = deliveryGate.nextProbeAt(now) - now;
            if (wait > 0) {
                // Elasticsearch failed recently: leave documents in the buffer until the backoff ends
                LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
                continue;
            }
            if (!templateInstalled) {
                installTemplate();
                continue;
            }
            Doc doc = queue.pollFirst();
            if (doc == null) {
                if (!running) {
                    ingester.flush();
                }
                // let documents gather instead of waiting on the queue: a waiting drainer is woken by every
                // record(), one thread switch per request at full load; this is one per batch
                LockSupport.parkNanos(LINGER_NANOS);
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                continue;
            }
            try {
                ingester.add(BulkOperation.of(op -> op.create(c -> c.index(dataStream)
                        .document(doc.source()))), doc);
            } catch (RuntimeException e) {
                queue.offerFirst(doc);
                failed(e);
            }
        }
    }

    private void installTemplate() {
        try {
            // use an ILM policy named like the data stream where the cluster has one (the setup script installs it)
            boolean ilm = IndexTemplates.hasLifecyclePolicy(client, dataStream);
            if (!ilm) {
                LOG.atInfo().addKeyValue("data_stream", dataStream).log("no ILM policy named {} on this cluster "
                        + "(or no ILM): request-log documents are kept until deleted", dataStream);
            }
            boolean installed = IndexTemplates.putIndexTemplateIfAbsent(client, dataStream, TEMPLATE, replicas,
                    ilm ? dataStream : null);
            templateInstalled = true;
            LOG.atDebug().addKeyValue("data_stream", dataStream).log(installed
                    ? "request log index template installed" : "request log index template already present; kept");
        } catch (Exception e) {
            failed(e);
        }
    }

    private void failed(Throwable e) {
        if (closed) {
            return;
        }
        failedBulks.increment();
        if (deliveryGate.recordFailure(clock.nanoTime())) {
            LOG.atWarn().addKeyValue(LogFields.LOG_BUFFER_SIZE, pending.get()).addKeyValue("data_stream", dataStream)
                    .log("request log delivery failing, buffering documents: {}", e.toString());
        }
    }

    private void succeeded() {
        if (deliveryGate.recordSuccess()) {
            LOG.atInfo().addKeyValue(LogFields.LOG_BUFFER_SIZE, pending.get()).addKeyValue("data_stream", dataStream)
                    .log("request log delivery resumed");
        }
    }

    private final class Listener implements BulkListener<Doc> {
        @Override
        public void beforeBulk(long executionId, BulkRequest request, List<Doc> contexts) {
        }

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Doc> contexts, BulkResponse response) {
            List<BulkResponseItem> items = response.items();
            int ok = 0;
            int rejected = 0;
            String rejection = null;
            for (int i = 0; i < contexts.size(); i++) {
                BulkResponseItem item = i < items.size() ? items.get(i) : null;
                if (item == null || item.error() == null) {
                    ok++;
                } else if (item.status() == 429 || item.status() >= 500) {
                    queue.offerFirst(contexts.get(i));
                } else {
                    rejected++;
                    rejection = item.error().type() + ": " + item.error().reason();
                }
            }
            delivered.add(ok);
            pending.addAndGet(-(ok + rejected));
            if (rejected > 0) {
                drop(rejected, "rejected by elasticsearch, e.g. " + rejection);
            }
            if (ok + rejected < contexts.size()) {
                failed(new IllegalStateException((contexts.size() - ok - rejected) + " documents to retry"));
            } else {
                succeeded();
            }
        }

        @Override
        public void afterBulk(long executionId, BulkRequest request, List<Doc> contexts, Throwable failure) {
            // put them back at the head, in order, to retry after the backoff
            for (int i = contexts.size() - 1; i >= 0; i--) {
                queue.offerFirst(contexts.get(i));
            }
            failed(failure);
        }
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        deliveryGate.probeNow(); // try once more right away
        try {
            drainer.join(closeTimeout.toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true; // the drainer, if still inside a slow call, stops at its next turn
        scheduler.shutdownNow();
        int lost = pending.getAndSet(0);
        if (lost > 0) {
            dropped.add(lost);
            LOG.atWarn().addKeyValue(LogFields.LOG_DOCUMENTS_DROPPED, dropped.sum()).addKeyValue("data_stream",
                    dataStream).log("request log closed with {} documents undelivered", lost);
        }
        // the ingester has nothing left worth waiting for; close it without blocking on a dead cluster
        Thread closer = new Thread(ingester::close, "proxy-manager-request-log-close");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ElasticsearchRequestLog[" + dataStream + ", buffered=" + pending.get() + ", dropped=" + dropped.sum()
                + "]";
    }

    /** Builds an {@link ElasticsearchRequestLog}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final ElasticsearchClient client;
        private String dataStream = DEFAULT_DATA_STREAM;
        private int replicas = 0;
        private int bufferSize = DEFAULT_BUFFER_SIZE;
        private int maxBatch = 1000;
        private int maxConcurrentRequests = 2;
        private Duration flushInterval = Duration.ofSeconds(1);
        private Duration retryMin = Duration.ofMillis(100);
        private Duration retryMax = Duration.ofSeconds(5);
        private Duration closeTimeout = Duration.ofSeconds(10);
        private Clock clock = Clock.system();

        private Builder(ElasticsearchClient client) {
            this.client = Objects.requireNonNull(client, "client");
        }

        /** The clock for retry backoff, the close deadline and the drop-warning interval; default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The data stream; default {@value #DEFAULT_DATA_STREAM}. Lower-case. */
        public Builder withDataStream(String name) {
            Objects.requireNonNull(name, "dataStream");
            if (name.isBlank() || !name.equals(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("request log data stream must be a non-blank lower-case name, was "
                        + name);
            }
            this.dataStream = name;
            return this;
        }

        /** {@code number_of_replicas} in the installed template; default 0 (one node). Use 1+ on a real cluster. */
        public Builder withReplicas(int replicas) {
            if (replicas < 0) {
                throw new IllegalArgumentException("request log replicas must be >= 0, was " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        /** Most documents held while undelivered; default 100 000. Past it, documents are dropped and counted. */
        public Builder withBufferSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("request log buffer size must be >= 1, was " + size);
            }
            this.bufferSize = size;
            return this;
        }

        /** Documents per bulk request; default 1000. */
        public Builder withMaxBatch(int maxBatch) {
            if (maxBatch < 1) {
                throw new IllegalArgumentException("request log max batch must be >= 1, was " + maxBatch);
            }
            this.maxBatch = maxBatch;
            return this;
        }

        /** Bulk requests in flight at once; default 2. */
        public Builder withMaxConcurrentRequests(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("request log max concurrent requests must be >= 1, was " + n);
            }
            this.maxConcurrentRequests = n;
            return this;
        }

        /** Longest time a document waits for a batch to fill; default 1 s. */
        public Builder withFlushInterval(Duration interval) {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("request log flush interval must be > 0, was " + interval);
            }
            this.flushInterval = interval;
            return this;
        }

        /** Backoff after a failed delivery: from {@code min}, doubling, up to {@code max}; default 100 ms to 5 s. */
        public Builder withRetryBackoff(Duration min, Duration max) {
            if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("request log retry backoff must be 0 < min <= max, was min="
                        + min + " max=" + max);
            }
            this.retryMin = min;
            this.retryMax = max;
            return this;
        }

        /** Longest time {@link #close()} waits to deliver the buffer; default 10 s. */
        public Builder withCloseTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("request log close timeout must be >= 0, was " + timeout);
            }
            this.closeTimeout = timeout;
            return this;
        }

        /** Builds the log and starts its background thread; installs the template on first delivery. */
        public ElasticsearchRequestLog build() {
            return new ElasticsearchRequestLog(this);
        }
    }
}
