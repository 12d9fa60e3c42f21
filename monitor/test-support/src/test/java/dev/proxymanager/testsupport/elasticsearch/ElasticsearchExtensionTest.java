package dev.proxymanager.testsupport.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch.cluster.HealthResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchExtensionTest {

    @Test
    void clientReachesAHealthyNode(ElasticsearchClient client) throws IOException {
        HealthResponse health = client.cluster().health();

        assertThat(health.numberOfNodes()).isGreaterThanOrEqualTo(1);
        assertThat(health.status().jsonValue()).isIn("green", "yellow");
    }

    @Test
    void indexNamesAreStableWithinATestClassAndValidForElasticsearch(ElasticsearchTestNode first, ElasticsearchTestNode second) {
        assertThat(first.index("Cache")).isEqualTo(second.index("cache"));
        assertThat(first.index("cache")).matches("[a-z0-9][a-z0-9_-]*").startsWith("t-elasticsearchextensiontest-");
        assertThat(first.index("cache")).isNotEqualTo(first.index("logs"));
    }

    @Test
    void nodeAndClientParametersShareOneNode(ElasticsearchTestNode node, ElasticsearchClient client) throws IOException {
        assertThat(node.client()).isSameAs(client);
        assertThat(node.url()).startsWith("http");
        assertThat(node.source()).isIn("ELASTICSEARCH_URL", "testcontainers", "local node");
    }
}
