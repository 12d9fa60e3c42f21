package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.time.Duration;

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
