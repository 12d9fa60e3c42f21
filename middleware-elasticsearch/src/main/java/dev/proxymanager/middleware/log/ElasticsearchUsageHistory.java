package dev.proxymanager.middleware.log;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.elastic.PointInTimeScan;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A {@link UsageHistory} that scans the request-log data stream page by page ({@link PointInTimeScan}), reading
 * only {@code @timestamp}, {@code endpoint} and {@code secret_id}.
 *
 * <p>Defaults: data stream {@value ElasticsearchRequestLog#DEFAULT_DATA_STREAM}, page size 5000. A data stream
 * that does not exist yet has no history. This class is threadsafe.
 */
public final class ElasticsearchUsageHistory implements UsageHistory {
    private final ElasticsearchClient client;
    private final String dataStream;
    private final int pageSize;

    private ElasticsearchUsageHistory(Builder b) {
        this.client = b.client;
        this.dataStream = b.dataStream;
        this.pageSize = b.pageSize;
    }

    public static Builder builder(ElasticsearchClient client) {
        return new Builder(client);
    }

    @Override
    public List<SecretUsage> usesSince(Instant since) {
        return scan(null, since);
    }

    @Override
    public List<SecretUsage> usesSince(String endpoint, Instant since) {
        return scan(Objects.requireNonNull(endpoint, "endpoint"), since);
    }

    private List<SecretUsage> scan(String endpoint, Instant since) {
        Objects.requireNonNull(since, "since");
        Query query = Query.of(q -> q.bool(b -> {
            b.filter(f -> f.range(r -> r.date(d -> d.field(LogFields.TIMESTAMP).gte(since.toString()))))
                    .filter(f -> f.exists(e -> e.field(LogFields.SECRET_ID)))
                    .mustNot(m -> m.exists(e -> e.field(LogFields.EVENT)))
                    .mustNot(m -> m.term(t -> t.field(LogFields.CACHE).value(FieldValue.of("hit"))));
            if (endpoint != null) {
                b.filter(f -> f.term(t -> t.field(LogFields.ENDPOINT).value(FieldValue.of(endpoint))));
            }
            return b;
        }));
        Map<String, Map<String, List<Instant>>> uses = new TreeMap<>();
        try {
            PointInTimeScan.builder(client, dataStream)
                    .withQuery(query)
                    .withPageSize(pageSize)
                    .withSourceIncludes(List.of(LogFields.TIMESTAMP, LogFields.ENDPOINT, LogFields.SECRET_ID))
                    .build()
                    .forEachPage(page -> {
                        for (Hit<ObjectNode> hit : page) {
                            add(uses, hit);
                        }
                    });
        } catch (ElasticsearchException e) {
            if ("index_not_found_exception".equals(e.error().type())) {
                return List.of(); // nothing logged yet: no past uses
            }
            throw new UsageHistoryException("reading usage history from " + dataStream + " failed: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new UsageHistoryException("reading usage history from " + dataStream + " failed: "
                    + e.getMessage(), e);
        }
        List<SecretUsage> result = new ArrayList<>();
        uses.forEach((ep, bySecret) -> bySecret.forEach((secret, times) -> {
            Collections.sort(times);
            result.add(new SecretUsage(ep, secret, times));
        }));
        return result;
    }

    private static void add(Map<String, Map<String, List<Instant>>> uses, Hit<ObjectNode> hit) {
        JsonNode src = hit.source();
        if (src == null) {
            return;
        }
        String ep = src.path(LogFields.ENDPOINT).asText(null);
        String secret = src.path(LogFields.SECRET_ID).asText(null);
        String ts = src.path(LogFields.TIMESTAMP).asText(null);
        if (ep == null || secret == null || ts == null) {
            return;
        }
        Instant at;
        try {
            at = Instant.parse(ts);
        } catch (DateTimeParseException e) {
            return; // a document not written by us; it cannot be placed in a window
        }
        uses.computeIfAbsent(ep, k -> new TreeMap<>()).computeIfAbsent(secret, k -> new ArrayList<>()).add(at);
    }

    /** Builds an {@link ElasticsearchUsageHistory}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final ElasticsearchClient client;
        private String dataStream = ElasticsearchRequestLog.DEFAULT_DATA_STREAM;
        private int pageSize = 5000;

        private Builder(ElasticsearchClient client) {
            this.client = Objects.requireNonNull(client, "client");
        }

        /** The request-log data stream; default {@value ElasticsearchRequestLog#DEFAULT_DATA_STREAM}. */
        public Builder withDataStream(String name) {
            this.dataStream = Objects.requireNonNull(name, "dataStream");
            return this;
        }

        /** Documents per page, 1–10000; default 5000. */
        public Builder withPageSize(int pageSize) {
            this.pageSize = PointInTimeScan.checkPageSize("usage history page size", pageSize);
            return this;
        }

        public ElasticsearchUsageHistory build() {
            return new ElasticsearchUsageHistory(this);
        }
    }
}
