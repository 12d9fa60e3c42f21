package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.Refresh;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(ElasticsearchExtension.class)
class PagedDeleteTest {

    private static void index(ElasticsearchClient client, String index, int count) throws IOException {
        client.indices().create(c -> c.index(index).settings(s -> s.numberOfReplicas("0"))
                .mappings(m -> m.properties("kind", p -> p.keyword(k -> k))));
        List<BulkOperation> ops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String kind = i % 4 == 0 ? "keep" : "drop";
            ops.add(BulkOperation.of(o -> o.index(x -> x.index(index).document(Map.of("kind", kind)))));
        }
        client.bulk(b -> b.operations(ops).refresh(Refresh.True));
    }

    @Test
    void deletesEveryMatchingDocumentAcrossPagesAndNothingElse(ElasticsearchTestNode es) throws IOException {
        // given 100 documents, 75 to drop, deleted 9 per page
        String index = es.index("paged");
        index(es.client(), index, 100);
        Query drop = Query.of(q -> q.term(t -> t.field("kind").value(FieldValue.of("drop"))));

        // when
        long deleted = PagedDelete.builder(es.client(), index).withQuery(drop).withPageSize(9).build().run();

        // then
        es.client().indices().refresh(r -> r.index(index));
        assertThat(deleted).isEqualTo(75);
        assertThat(es.client().count(c -> c.index(index)).count()).isEqualTo(25);
    }

    @Test
    void scanReadsEveryPageOnceAndAMissingIndexIsEmpty(ElasticsearchTestNode es) throws IOException {
        String index = es.index("scan");
        index(es.client(), index, 23);
        AtomicLong pages = new AtomicLong();

        long seen = PointInTimeScan.builder(es.client(), index).withPageSize(5).build()
                .forEachPage(page -> pages.incrementAndGet());

        assertThat(seen).isEqualTo(23);
        assertThat(pages).hasValue(5);
        assertThat(PointInTimeScan.builder(es.client(), es.index("absent")).build().forEachPage(p -> { })).isZero();
    }

    @Test
    void refusesToRunWithoutAQuery(ElasticsearchTestNode es) {
        assertThatThrownBy(() -> PagedDelete.builder(es.client(), "x").build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("withQuery");
        assertThatThrownBy(() -> PagedDelete.builder(es.client(), "x").withPageSize(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("pageSize must be within 1-10000, was 0");
    }
}
