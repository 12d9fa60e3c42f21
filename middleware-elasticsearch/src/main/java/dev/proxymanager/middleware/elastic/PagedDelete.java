package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.core.search.Hit;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Deletes every document matching a query in pages: a {@link PointInTimeScan} reads the ids, one bulk request
 * per page deletes them. Replaces {@code _delete_by_query}, which not every cluster has.
 *
 * <p>Defaults: page size 1000. Documents that a concurrent writer changed are deleted anyway (no version check);
 * a document that is already gone counts as not deleted. Instances are immutable. This class is threadsafe.
 */
public final class PagedDelete {
    private final ElasticsearchClient client;
    private final String index;
    private final Query query;
    private final int pageSize;

    private PagedDelete(Builder b) {
        this.client = b.client;
        this.index = b.index;
        this.query = b.query;
        this.pageSize = b.pageSize;
    }

    /** Starts a delete from {@code index} (an index, alias or pattern). */
    public static Builder builder(ElasticsearchClient client, String index) {
        return new Builder(client, index);
    }

    /**
     * Deletes the matching documents.
     *
     * @return how many documents were deleted
     * @throws IOException if Elasticsearch cannot be reached
     * @throws co.elastic.clients.elasticsearch._types.ElasticsearchException if a request is rejected
     */
    public long run() throws IOException {
        AtomicLong deleted = new AtomicLong();
        PointInTimeScan.builder(client, index)
                .withQuery(query)
                .withPageSize(pageSize)
                .withSourceIncludes(List.of("_none_"))
                .build()
                .forEachPage(page -> deleted.addAndGet(deletePage(page)));
        return deleted.get();
    }

    private long deletePage(List<Hit<ObjectNode>> page) throws IOException {
        List<BulkOperation> operations = new ArrayList<>(page.size());
        for (Hit<ObjectNode> hit : page) {
            // delete from the concrete index the hit came from: the scan may run over an alias or pattern
            operations.add(BulkOperation.of(op -> op.delete(d -> d.index(hit.index()).id(hit.id()))));
        }
        BulkResponse response = client.bulk(b -> b.operations(operations));
        long deleted = 0;
        for (BulkResponseItem item : response.items()) {
            if (item.error() == null && "deleted".equals(item.result())) {
                deleted++;
            }
        }
        return deleted;
    }

    /** Builds a {@link PagedDelete}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final ElasticsearchClient client;
        private final String index;
        private Query query;
        private int pageSize = 1000;

        private Builder(ElasticsearchClient client, String index) {
            this.client = Objects.requireNonNull(client, "client");
            this.index = Objects.requireNonNull(index, "index");
        }

        /** Which documents to delete; required (there is no default, so nothing is deleted by accident). */
        public Builder withQuery(Query query) {
            this.query = Objects.requireNonNull(query, "query");
            return this;
        }

        /** Documents per page and per bulk request, 1–{@value PointInTimeScan#MAX_PAGE_SIZE}; default 1000. */
        public Builder withPageSize(int pageSize) {
            this.pageSize = PointInTimeScan.checkPageSize("pageSize", pageSize);
            return this;
        }

        /** @throws NullPointerException if no query was set */
        public PagedDelete build() {
            Objects.requireNonNull(query, "query is required: set it with withQuery(...)");
            return new PagedDelete(this);
        }
    }
}
