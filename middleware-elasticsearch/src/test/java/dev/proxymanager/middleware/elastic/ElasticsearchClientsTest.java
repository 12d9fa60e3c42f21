package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.Refresh;
import co.elastic.clients.elasticsearch.core.BulkResponse;
import co.elastic.clients.elasticsearch.core.bulk.BulkOperation;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchClientsTest {

    @Test
    void aClientFromAUrlTalksToTheNode(ElasticsearchTestNode es) throws IOException {
        ElasticsearchClient client = ElasticsearchClients.create(es.url());
        try {
            assertThat(client.cluster().health().numberOfNodes()).isEqualTo(1);
        } finally {
            ElasticsearchClients.close(client);
        }
    }

    @Test
    void aClientWithCredentialsSendsThemAsBasicAuthorizationOnEveryRequest() throws Exception {
        // given a loopback stand-in for a secured node, recording the Authorization header
        List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer node = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        node.createContext("/", exchange -> {
            sent.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            exchange.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
            exchange.sendResponseHeaders(200, -1); // the answer to a ping (HEAD /)
            exchange.close();
        });
        node.start();
        ElasticsearchClient client = ElasticsearchClients.create("http://127.0.0.1:" + node.getAddress().getPort(),
                "elastic", "pä:ss");
        try {
            // when
            boolean first = client.ping().value();
            boolean second = client.ping().value();

            // then
            assertThat(first && second).isTrue();
            assertThat(sent).hasSize(2).containsOnly("Basic " + java.util.Base64.getEncoder().encodeToString(
                    "elastic:pä:ss".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } finally {
            ElasticsearchClients.close(client);
            node.stop(0);
        }
    }

    @Test
    void credentialsGoTogetherAndTheErrorNeverShowsThem() {
        assertThat(ElasticsearchClients.basicAuthorization(null, null)).isEmpty();
        assertThatThrownBy(() -> ElasticsearchClients.basicAuthorization("admin-user", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password is missing")
                .hasMessageNotContaining("admin-user");
        assertThatThrownBy(() -> ElasticsearchClients.basicAuthorization(null, "hunter2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("username is missing")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void aBulkOfManyDocumentsArrivesWholeAndItsFilteredAnswerStillParses(ElasticsearchTestNode es) throws IOException {
        // given a client whose bulk bodies are joined into one buffer, asking for the request log's filtered answer
        ElasticsearchClient client = ElasticsearchClients.create(es.url());
        String index = es.index("joined-bulk");
        try {
            ElasticsearchClient filtered = client.withTransportOptions(o -> o.setParameter("filter_path",
                    ElasticsearchRequestLog.BULK_RESPONSE_FIELDS));
            List<BulkOperation> ops = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                Map<String, Object> doc = Map.of("n", i, "text", "document number " + i);
                String id = "d" + i;
                ops.add(BulkOperation.of(o -> o.create(c -> c.index(index).id(id).document(doc))));
            }

            // when 500 documents go in one bulk
            BulkResponse response = filtered.bulk(b -> b.operations(ops).refresh(Refresh.True));

            // then every one is created, in order, and reads back as sent
            assertThat(response.errors()).isFalse();
            assertThat(response.items()).hasSize(500).allSatisfy(item -> assertThat(item.status()).isEqualTo(201));
            assertThat(client.count(c -> c.index(index)).count()).isEqualTo(500);
            assertThat(client.get(g -> g.index(index).id("d499"), Map.class).source())
                    .containsEntry("text", "document number 499");
        } finally {
            ElasticsearchClients.close(client);
        }
    }

    @Test
    void rejectsAUrlThatIsNotAbsoluteHttp() {
        assertThatThrownBy(() -> ElasticsearchClients.create("127.0.0.1:9200"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("elasticsearch url must be an absolute http(s) URL, was 127.0.0.1:9200");
        assertThatThrownBy(() -> ElasticsearchClients.create("ftp://elastic:s3cret@h/"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> ElasticsearchClients.create("http://h:1", Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeouts must be > 0");
    }
}
