package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Reads every document matching a query, page by page, with a point in time and {@code search_after}: the one
 * way to walk a large result that works on every cluster (no scroll contexts, no {@code _delete_by_query}).
 *
 * <p>Defaults: page size 1000, keep-alive 1 minute, all of {@code _source}, match-all query. A missing index
 * scans nothing. Instances are immutable; each {@link #forEachPage} call opens and closes its own point in time.
 * This class is threadsafe.
 */
public final class PointInTimeScan {

    /** The most hits one search returns by default ({@code index.max_result_window}): the bound of a page. */
    public static final int MAX_PAGE_SIZE = 10_000;

    /**
     * {@code pageSize} when it is a page size every walk over Elasticsearch pages can use (1–{@value #MAX_PAGE_SIZE}).
     *
     * @param what how the setting is named in the error
     * @throws IllegalArgumentException otherwise, naming {@code what}
     */
    public static int checkPageSize(String what, int pageSize) {
        if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException(what + " must be within 1-" + MAX_PAGE_SIZE + ", was " + pageSize);
        }
        return pageSize;
    }
    /** Receives one page of hits; the list is never empty. */
    @FunctionalInterface
    public interface PageConsumer {
        void accept(List<Hit<ObjectNode>> page) throws IOException;
    }

    private final ElasticsearchClient client;
    private final String index;
    private final Query query;
    private final int pageSize;
    private final String keepAlive;
    private final List<String> sourceIncludes;

    private PointInTimeScan(Builder b) {
        this.client = b.client;
        this.index = b.index;
        this.query = b.query;
        this.pageSize = b.pageSize;
        this.keepAlive = b.keepAlive.toMillis() + "ms";
        this.sourceIncludes = b.sourceIncludes;
    }

    /** Starts a scan of {@code index} (an index, alias, data stream or pattern). */
    public static Builder builder(ElasticsearchClient client, String index) {
        return new Builder(client, index);
    }

    /**
     * Hands every page of matching hits to {@code consumer}, in shard-document order.
     *
     * @return the number of hits seen
     * @throws IOException if Elasticsearch cannot be reached
     * @throws ElasticsearchException if Elasticsearch rejects a request (other than a missing index)
     */
    public long forEachPage(PageConsumer consumer) throws IOException {
        String pitId;
        try {
            pitId = client.openPointInTime(o -> o.index(index).keepAlive(t -> t.time(keepAlive))
                    .ignoreUnavailable(true)).id();
        } catch (ElasticsearchException e) {
            if (e.status() == 404) {
                return 0;
            }
            throw e;
        }
        long seen = 0;
        try {
            List<FieldValue> after = null;
            while (true) {
                final String pit = pitId;
                final List<FieldValue> searchAfter = after;
                SearchResponse<ObjectNode> response = client.search(s -> {
                    s.pit(p -> p.id(pit).keepAlive(t -> t.time(keepAlive)))
                            .size(pageSize)
                            .query(query)
                            .trackTotalHits(t -> t.enabled(false))
                            .sort(so -> so.field(f -> f.field("_shard_doc").order(SortOrder.Asc)));
                    if (sourceIncludes != null) {
                        s.source(src -> src.filter(f -> f.includes(sourceIncludes)));
                    }
                    if (searchAfter != null) {
                        s.searchAfter(searchAfter);
                    }
                    return s;
                }, ObjectNode.class);
                if (response.pitId() != null) {
                    pitId = response.pitId();
                }
                List<Hit<ObjectNode>> hits = response.hits().hits();
                if (hits.isEmpty()) {
                    return seen;
                }
                seen += hits.size();
                consumer.accept(hits);
                if (hits.size() < pageSize) {
                    return seen;
                }
                after = hits.get(hits.size() - 1).sort();
            }
        } finally {
            final String pit = pitId;
            try {
                client.closePointInTime(c -> c.id(pit));
            } catch (IOException | ElasticsearchException ignored) {
                // the point in time expires on its own after keep-alive; nothing more to do
            }
        }
    }

    /** Builds a {@link PointInTimeScan}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final ElasticsearchClient client;
        private final String index;
        private Query query = Query.of(q -> q.matchAll(m -> m));
        private int pageSize = 1000;
        private Duration keepAlive = Duration.ofMinutes(1);
        private List<String> sourceIncludes;

        private Builder(ElasticsearchClient client, String index) {
            this.client = Objects.requireNonNull(client, "client");
            this.index = Objects.requireNonNull(index, "index");
        }

        /** Which documents to read; default all. */
        public Builder withQuery(Query query) {
            this.query = Objects.requireNonNull(query, "query");
            return this;
        }

        /** Hits per page, 1–{@value #MAX_PAGE_SIZE}; default 1000. */
        public Builder withPageSize(int pageSize) {
            this.pageSize = checkPageSize("pageSize", pageSize);
            return this;
        }

        /** How long the point in time lives between pages; default 1 minute. */
        public Builder withKeepAlive(Duration keepAlive) {
            if (keepAlive.isNegative() || keepAlive.isZero()) {
                throw new IllegalArgumentException("keepAlive must be > 0, was " + keepAlive);
            }
            this.keepAlive = keepAlive;
            return this;
        }

        /** Restricts {@code _source} to these fields; default the whole document. */
        public Builder withSourceIncludes(List<String> fields) {
            this.sourceIncludes = List.copyOf(fields);
            return this;
        }

        public PointInTimeScan build() {
            return new PointInTimeScan(this);
        }
    }
}
