package dev.proxymanager.testsupport.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch._types.Time;
import co.elastic.clients.elasticsearch._types.aggregations.CalendarInterval;
import co.elastic.clients.elasticsearch._types.aggregations.DateHistogramBucket;
import co.elastic.clients.elasticsearch._types.aggregations.StringTermsBucket;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.GetResponse;
import co.elastic.clients.elasticsearch.core.SearchResponse;
import co.elastic.clients.elasticsearch.core.search.Hit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The round trip every other piece relies on, with the official client against a real node: an index with an
 * explicit mapping, index and get, search with terms and date_histogram aggregations, and a delete in pages with
 * a point in time + search_after + bulk (the local node has no {@code _delete_by_query}).
 */
@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchRoundTripTest {
    private static final Instant BASE = Instant.parse("2026-01-01T00:00:00Z");
    private static String index;

    @BeforeAll
    static void createIndexWithMapping(ElasticsearchTestNode es) throws IOException {
        index = es.index("requests");
        es.client().indices().create(c -> c.index(index)
                .settings(s -> s.numberOfShards("1").numberOfReplicas("0"))
                .mappings(m -> m
                        .properties("@timestamp", p -> p.date(d -> d))
                        .properties("endpoint", p -> p.keyword(k -> k))
                        .properties("status", p -> p.integer(i -> i))
                        .properties("latency_ms", p -> p.long_(l -> l))));
    }

    @Test
    void nodeReportsTheBundledVersionOrTheConfiguredOne(ElasticsearchClient client) throws IOException {
        String version = client.cat().nodes(n -> n.h("version")).nodes().get(0).version();
        System.out.println("[round-trip] Elasticsearch node version " + version);
        assertThat(version).startsWith("9.");
    }

    @Test
    void indexedDocumentComesBackByIdWithItsFields(ElasticsearchClient client) throws IOException {
        Map<String, Object> doc = document(0, "github", 200);
        client.index(i -> i.index(index).id("doc-get").document(doc).refresh(co.elastic.clients.elasticsearch._types.Refresh.True));

        GetResponse<Map> got = client.get(g -> g.index(index).id("doc-get").realtime(true), Map.class);

        assertThat(got.found()).isTrue();
        assertThat(got.source()).containsEntry("endpoint", "github").containsEntry("status", 200);
    }

    @Test
    void termsAndDateHistogramAggregationsCountWhatWasIndexed(ElasticsearchTestNode es) throws IOException {
        ElasticsearchClient client = es.client();
        String aggIndex = es.index("aggs");
        client.indices().create(c -> c.index(aggIndex).settings(s -> s.numberOfReplicas("0"))
                .mappings(m -> m.properties("@timestamp", p -> p.date(d -> d)).properties("endpoint", p -> p.keyword(k -> k))));
        // 3 documents for github in hour 0, 2 for search in hour 1
        bulkIndex(client, aggIndex, List.of(document(0, "github", 200), document(10, "github", 200),
                document(20, "github", 429), document(60, "search", 200), document(70, "search", 500)));

        SearchResponse<Void> response = client.search(s -> s.index(aggIndex).size(0)
                .aggregations("by_endpoint", a -> a.terms(t -> t.field("endpoint")))
                .aggregations("per_hour", a -> a.dateHistogram(h -> h.field("@timestamp")
                        .calendarInterval(CalendarInterval.Hour))), Void.class);

        Map<String, Long> byEndpoint = new LinkedHashMap<>();
        for (StringTermsBucket b : response.aggregations().get("by_endpoint").sterms().buckets().array()) {
            byEndpoint.put(b.key().stringValue(), b.docCount());
        }
        assertThat(byEndpoint).containsExactly(Map.entry("github", 3L), Map.entry("search", 2L));
        List<Long> perHour = response.aggregations().get("per_hour").dateHistogram().buckets().array().stream()
                .map(DateHistogramBucket::docCount).toList();
        assertThat(perHour).containsExactly(3L, 2L);
    }

    @Test
    void pagedDeleteWithPointInTimeAndSearchAfterRemovesEveryMatchingDocument(ElasticsearchTestNode es) throws IOException {
        ElasticsearchClient client = es.client();
        String deleteIndex = es.index("delete");
        client.indices().create(c -> c.index(deleteIndex).settings(s -> s.numberOfReplicas("0"))
                .mappings(m -> m.properties("@timestamp", p -> p.date(d -> d)).properties("endpoint", p -> p.keyword(k -> k))));
        List<Map<String, Object>> docs = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            docs.add(document(i, i % 5 == 0 ? "keep" : "drop", 200)); // 50 keep, 200 drop
        }
        bulkIndex(client, deleteIndex, docs);

        int deleted = deleteInPages(client, deleteIndex, "drop", 37);

        client.indices().refresh(r -> r.index(deleteIndex));
        assertThat(deleted).isEqualTo(200);
        assertThat(client.count(c -> c.index(deleteIndex)).count()).isEqualTo(50);
        assertThat(client.count(c -> c.index(deleteIndex).query(q -> q.term(t -> t.field("endpoint").value("drop")))).count())
                .isZero();
    }

    /** Pages through a point in time sorted by a tiebreaker, deleting each page with one bulk request. */
    private static int deleteInPages(ElasticsearchClient client, String index, String endpoint, int pageSize) throws IOException {
        String pit = client.openPointInTime(p -> p.index(index).keepAlive(Time.of(t -> t.time("1m")))).id();
        int deleted = 0;
        try {
            List<FieldValue> after = null;
            while (true) {
                List<FieldValue> searchAfter = after;
                SearchResponse<Void> page = client.search(s -> {
                    s.size(pageSize).pit(p -> p.id(pit).keepAlive(Time.of(t -> t.time("1m"))))
                            .query(q -> q.term(t -> t.field("endpoint").value(endpoint)))
                            .sort(o -> o.field(f -> f.field("_shard_doc").order(SortOrder.Asc)))
                            .source(src -> src.fetch(false));
                    if (searchAfter != null) {
                        s.searchAfter(searchAfter);
                    }
                    return s;
                }, Void.class);
                List<Hit<Void>> hits = page.hits().hits();
                if (hits.isEmpty()) {
                    return deleted;
                }
                BulkRequest.Builder bulk = new BulkRequest.Builder();
                for (Hit<Void> hit : hits) {
                    bulk.operations(op -> op.delete(d -> d.index(hit.index()).id(hit.id())));
                }
                BulkResponse response = client.bulk(bulk.build());
                assertThat(response.errors()).as("bulk delete errors").isFalse();
                deleted += hits.size();
                after = hits.get(hits.size() - 1).sort();
            }
        } finally {
            client.closePointInTime(c -> c.id(pit));
        }
    }

    private static void bulkIndex(ElasticsearchClient client, String index, List<Map<String, Object>> docs) throws IOException {
        BulkRequest.Builder bulk = new BulkRequest.Builder().refresh(co.elastic.clients.elasticsearch._types.Refresh.True);
        for (Map<String, Object> doc : docs) {
            bulk.operations(op -> op.index(i -> i.index(index).document(doc)));
        }
        BulkResponse response = client.bulk(bulk.build());
        assertThat(response.errors()).as("bulk index errors").isFalse();
    }

    private static Map<String, Object> document(int minute, String endpoint, int status) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("@timestamp", BASE.plus(minute, ChronoUnit.MINUTES).toString());
        doc.put("endpoint", endpoint);
        doc.put("status", status);
        doc.put("latency_ms", 10L + minute);
        return doc;
    }
}
