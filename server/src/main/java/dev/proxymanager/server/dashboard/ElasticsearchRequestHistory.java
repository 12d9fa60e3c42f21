package dev.proxymanager.server.dashboard;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregate;
import co.elastic.clients.elasticsearch._types.aggregations.Aggregation;
import co.elastic.clients.elasticsearch._types.aggregations.ArrayPercentilesItem;
import co.elastic.clients.elasticsearch._types.aggregations.DateHistogramAggregation;
import co.elastic.clients.elasticsearch._types.aggregations.DateHistogramBucket;
import co.elastic.clients.elasticsearch._types.aggregations.FieldDateMath;
import co.elastic.clients.elasticsearch._types.aggregations.LongTermsBucket;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import dev.proxymanager.middleware.backend.BackendGate;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.transport.Backoff;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link RequestHistory} over the request-log data stream in Elasticsearch: one {@code size: 0} search per report,
 * with a {@code date_histogram} (× {@code terms} on {@link LogFields#ENDPOINT}, × {@code percentiles} on
 * {@link LogFields#LATENCY_MS}), {@code terms} on {@link LogFields#CACHE}, {@link LogFields#STATUS}, {@link LogFields#HOST}
 * (all requests, and banned ones: per-site bans),
 * {@link LogFields#OUTCOME} and {@link LogFields#SECRET_ID}, and {@code percentiles} on the latency. Status and
 * latency figures count upstream attempts only ({@code attempt >= 1}, not a cache hit): a call answered from the
 * cache is a request and a cache hit, not an upstream answer. Uses only aggregations every Elasticsearch 9 cluster
 * has.
 *
 * <p>Defaults: index pattern {@value #DEFAULT_INDEX}, top 10 endpoints per bucket, top 50 secrets. Built by
 * {@link #builder()}. The client's own timeouts bound how long a report waits for a slow cluster.
 *
 * <p>This class is threadsafe.
 */
public final class ElasticsearchRequestHistory implements RequestHistory {
    /** The request-log data stream the server writes. */
    public static final String DEFAULT_INDEX = "proxy-manager-requests";

    private static final String TIMELINE = "timeline";
    private static final String BY_ENDPOINT = "by_endpoint";
    private static final String LATENCY = "latency";
    private static final String CACHE = "cache";
    private static final String STATUSES = "statuses";
    private static final String NO_STATUS = "no_status";
    private static final String OUTCOMES = "outcomes";
    private static final String SECRETS = "secrets";
    private static final String EVENTS = "events";
    private static final String IN_RANGE = "in_range";
    private static final String BY_EVENT = "by_event";
    private static final String HOSTS = "hosts";
    private static final String BANS = "bans";
    private static final String UPSTREAM = "upstream";
    /** Busiest target hosts and hosts with most bans shown. */
    private static final int TOP_HOSTS = 10;
    private static final List<Double> PERCENTS = List.of(50.0, 95.0, 99.0);

    private final ElasticsearchClient client;
    private final String index;
    private final int topEndpoints;
    private final int topSecrets;
    private final Clock clock;
    /** After a failed read, skips Elasticsearch for 1 s, doubling up to 30 s, instead of querying it on every refresh. */
    private final BackendGate gate = new BackendGate(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(30)));

    private ElasticsearchRequestHistory(Builder builder) {
        this.client = builder.client;
        this.clock = builder.clock;
        this.index = builder.index;
        this.topEndpoints = builder.topEndpoints;
        this.topSecrets = builder.topSecrets;
    }

    /** A builder; {@link Builder#withClient} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The index, alias, data stream or pattern this history reads. */
    public String index() {
        return index;
    }

    @Override
    public HistoryReport report(HistoryRange range) throws HistoryUnavailableException {
        Objects.requireNonNull(range, "range");
        long now = clock.nanoTime();
        if (!gate.allowsCall(now)) {
            throw new HistoryUnavailableException("request log '" + index + "' is presumed unreachable after "
                    + gate.consecutiveFailures() + " failed reads; next try in "
                    + Duration.ofNanos(gate.nextProbeAt(now) - now).toMillis() + " ms", null);
        }
        SearchResponse<Void> response;
        try {
            response = client.search(s -> s
                    .index(index)
                    .ignoreUnavailable(true)
                    .allowNoIndices(true)
                    .size(0)
                    .trackTotalHits(t -> t.enabled(true))
                    // requests only: secret state events share the data stream (as in Kibana: NOT event : *)
                    .query(q -> q.bool(b -> b.filter(inRange(range))
                            .mustNot(n -> n.exists(x -> x.field(LogFields.EVENT)))))
                    .aggregations(TIMELINE, timeline(range))
                    .aggregations(CACHE, terms(LogFields.CACHE, 10))
                    .aggregations(UPSTREAM, a -> a.filter(upstreamAttempts())
                            .aggregations(STATUSES, terms(LogFields.STATUS, 50))
                            .aggregations(NO_STATUS, n -> n.missing(m -> m.field(LogFields.STATUS)))
                            .aggregations(LATENCY, percentiles()))
                    .aggregations(OUTCOMES, terms(LogFields.OUTCOME, 20))
                    .aggregations(SECRETS, terms(LogFields.SECRET_ID, topSecrets))
                    .aggregations(HOSTS, terms(LogFields.HOST, TOP_HOSTS))
                    .aggregations(BANS, a -> a
                            .filter(f -> f.term(t -> t.field(LogFields.OUTCOME).value(OutcomeKind.BANNED.wireName())))
                            .aggregations(HOSTS, terms(LogFields.HOST, TOP_HOSTS)))
                    .aggregations(EVENTS, events(range)), Void.class);
        } catch (IOException | ElasticsearchException e) {
            gate.recordFailure(clock.nanoTime());
            throw new HistoryUnavailableException("request log '" + index + "' could not be read: "
                    + e.getClass().getSimpleName(), e);
        }
        gate.recordSuccess();
        return toReport(range, response);
    }

    private static Query inRange(HistoryRange range) {
        return Query.of(q -> q.range(r -> r.date(d -> d
                .field(LogFields.TIMESTAMP)
                .gte(Long.toString(range.from().toEpochMilli()))
                .lt(Long.toString(range.to().toEpochMilli()))
                .format("epoch_millis"))));
    }

    private Aggregation timeline(HistoryRange range) {
        return Aggregation.of(a -> a
                .dateHistogram(buckets(range))
                .aggregations(BY_ENDPOINT, terms(LogFields.ENDPOINT, topEndpoints))
                .aggregations(UPSTREAM, u -> u.filter(upstreamAttempts()).aggregations(LATENCY, percentiles())));
    }

    /**
     * Documents of upstream attempts: {@code attempt >= 1}, and not {@code cache: hit} (which also leaves out hits
     * logged before cache-served calls became attempt 0, as Kibana's {@code NOT cache : "hit"} does).
     */
    private static Query upstreamAttempts() {
        return Query.of(q -> q.bool(b -> b
                .filter(f -> f.range(r -> r.number(n -> n.field(LogFields.ATTEMPT).gte(1.0))))
                .mustNot(n -> n.term(t -> t.field(LogFields.CACHE).value("hit")))));
    }

    private static DateHistogramAggregation buckets(HistoryRange range) {
        long from = range.from().toEpochMilli();
        long lastBucket = range.to().toEpochMilli() - range.bucket().toMillis();
        return DateHistogramAggregation.of(h -> h
                .field(LogFields.TIMESTAMP)
                .fixedInterval(t -> t.time(range.bucket().toSeconds() + "s"))
                .minDocCount(0)
                .extendedBounds(b -> b.min(FieldDateMath.of(f -> f.value(from)))
                        .max(FieldDateMath.of(f -> f.value(lastBucket)))));
    }

    /** Secret state events per bucket and kind: outside the requests-only query, in the same range and buckets. */
    private static Aggregation events(HistoryRange range) {
        Aggregation timeline = Aggregation.of(a -> a.dateHistogram(buckets(range))
                .aggregations(BY_EVENT, terms(LogFields.EVENT, 10)));
        Aggregation inRange = Aggregation.of(a -> a
                .filter(q -> q.bool(b -> b.filter(inRange(range)).filter(f -> f.exists(x -> x.field(LogFields.EVENT)))))
                .aggregations(TIMELINE, timeline));
        return Aggregation.of(a -> a.global(g -> g).aggregations(IN_RANGE, inRange));
    }

    private static Aggregation terms(String field, int size) {
        return Aggregation.of(a -> a.terms(t -> t.field(field).size(size)));
    }

    private static Aggregation percentiles() {
        return Aggregation.of(a -> a.percentiles(p -> p.field(LogFields.LATENCY_MS).percents(PERCENTS).keyed(false)));
    }

    private static HistoryReport toReport(HistoryRange range, SearchResponse<Void> response) {
        long total = response.hits().total() == null ? 0 : response.hits().total().value();
        Map<String, Aggregate> aggs = response.aggregations();
        if (aggs.isEmpty()) {
            // no index matched the pattern yet: an empty history, not an unavailable one
            return empty(range, total);
        }
        List<DateHistogramBucket> timeline = aggs.get(TIMELINE).dateHistogram().buckets().array();
        List<Instant> buckets = new ArrayList<>(timeline.size());
        List<LatencyPercentiles> latencyOverTime = new ArrayList<>(timeline.size());
        Map<String, List<Long>> byEndpoint = new LinkedHashMap<>();
        for (int i = 0; i < timeline.size(); i++) {
            DateHistogramBucket bucket = timeline.get(i);
            buckets.add(Instant.ofEpochMilli(bucket.key()));
            latencyOverTime.add(latency(bucket.aggregations().get(UPSTREAM).filter().aggregations().get(LATENCY)));
            for (StringTermsBucket endpoint : bucket.aggregations().get(BY_ENDPOINT).sterms().buckets().array()) {
                List<Long> counts = byEndpoint.computeIfAbsent(endpoint.key().stringValue(), e -> zeros(timeline.size()));
                counts.set(i, endpoint.docCount());
            }
        }
        Map<String, Aggregate> upstream = aggs.get(UPSTREAM).filter().aggregations();
        Map<String, Long> statuses = new LinkedHashMap<>();
        Aggregate statusAgg = upstream.get(STATUSES);
        if (statusAgg.isLterms()) {
            for (LongTermsBucket b : statusAgg.lterms().buckets().array()) {
                statuses.put(Long.toString(b.key()), b.docCount());
            }
        } else if (statusAgg.isSterms()) {
            statuses.putAll(counts(statusAgg));
        }
        Map<String, List<Long>> events = new LinkedHashMap<>();
        List<DateHistogramBucket> eventTimeline = aggs.get(EVENTS).global().aggregations().get(IN_RANGE).filter()
                .aggregations().get(TIMELINE).dateHistogram().buckets().array();
        for (int i = 0; i < eventTimeline.size() && i < buckets.size(); i++) {
            Aggregate byEvent = eventTimeline.get(i).aggregations().get(BY_EVENT);
            if (!byEvent.isSterms()) {
                continue; // no event documents mapped yet
            }
            for (StringTermsBucket event : byEvent.sterms().buckets().array()) {
                events.computeIfAbsent(event.key().stringValue(), e -> zeros(buckets.size())).set(i, event.docCount());
            }
        }
        return new HistoryReport(range, total, buckets, sortedByTotal(byEndpoint), latencyOverTime,
                counts(aggs.get(CACHE)), statuses, upstream.get(NO_STATUS).missing().docCount(),
                counts(aggs.get(OUTCOMES)), latency(upstream.get(LATENCY)), counts(aggs.get(SECRETS)), events,
                counts(aggs.get(HOSTS)), counts(aggs.get(BANS).filter().aggregations().get(HOSTS)));
    }

    private static HistoryReport empty(HistoryRange range, long total) {
        List<Instant> buckets = new ArrayList<>();
        for (Instant t = range.from(); t.isBefore(range.to()); t = t.plus(range.bucket())) {
            buckets.add(t);
        }
        List<LatencyPercentiles> latency = buckets.stream().map(b -> LatencyPercentiles.NONE).toList();
        return new HistoryReport(range, total, buckets, Map.of(), latency, Map.of(), Map.of(), 0, Map.of(),
                LatencyPercentiles.NONE, Map.of(), Map.of());
    }

    private static Map<String, Long> counts(Aggregate aggregate) {
        Map<String, Long> counts = new LinkedHashMap<>();
        if (aggregate.isSterms()) {
            for (StringTermsBucket b : aggregate.sterms().buckets().array()) {
                counts.put(b.key().stringValue(), b.docCount());
            }
        }
        // an unmapped field answers with empty "umterms": no counts
        return counts;
    }

    private static LatencyPercentiles latency(Aggregate aggregate) {
        Double[] values = new Double[PERCENTS.size()];
        for (ArrayPercentilesItem item : aggregate.tdigestPercentiles().values().array()) {
            int i = PERCENTS.indexOf(item.key());
            if (i >= 0 && item.value() != null && !item.value().isNaN()) {
                values[i] = item.value();
            }
        }
        return new LatencyPercentiles(values[0], values[1], values[2]);
    }

    private static List<Long> zeros(int size) {
        List<Long> zeros = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            zeros.add(0L);
        }
        return zeros;
    }

    private static Map<String, List<Long>> sortedByTotal(Map<String, List<Long>> series) {
        Map<String, List<Long>> sorted = new LinkedHashMap<>();
        series.entrySet().stream()
                .sorted((a, b) -> Long.compare(sum(b.getValue()), sum(a.getValue())))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    private static long sum(List<Long> counts) {
        return counts.stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Builds an {@link ElasticsearchRequestHistory}. {@link #build()} copies the settings. This class is
     * <em>not</em> threadsafe.
     */
    public static final class Builder {
        private ElasticsearchClient client;
        private String index = DEFAULT_INDEX;
        private int topEndpoints = 10;
        private int topSecrets = 50;
        private Clock clock = Clock.system();

        private Builder() {
        }

        /** Time source for the backoff after a failed read. Default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The client to search with (required; not closed by the history). */
        public Builder withClient(ElasticsearchClient client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /** Index, alias, data stream or comma-separated pattern to read; default {@value #DEFAULT_INDEX}. */
        public Builder withIndex(String index) {
            Objects.requireNonNull(index, "index");
            if (index.isBlank()) {
                throw new IllegalArgumentException("index must not be blank, was '" + index + "'");
            }
            this.index = index;
            return this;
        }

        /** Endpoints shown per time bucket, largest first; default 10. */
        public Builder withTopEndpoints(int topEndpoints) {
            if (topEndpoints <= 0) {
                throw new IllegalArgumentException("topEndpoints must be > 0, was " + topEndpoints);
            }
            this.topEndpoints = topEndpoints;
            return this;
        }

        /** Secrets counted, largest first; default 50. */
        public Builder withTopSecrets(int topSecrets) {
            if (topSecrets <= 0) {
                throw new IllegalArgumentException("topSecrets must be > 0, was " + topSecrets);
            }
            this.topSecrets = topSecrets;
            return this;
        }

        /**
         * @throws NullPointerException if no client was set
         */
        public ElasticsearchRequestHistory build() {
            Objects.requireNonNull(client, "client is required: call withClient(...)");
            return new ElasticsearchRequestHistory(this);
        }
    }
}
