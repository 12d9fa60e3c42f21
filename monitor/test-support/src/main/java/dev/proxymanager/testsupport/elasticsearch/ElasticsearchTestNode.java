package dev.proxymanager.testsupport.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;

import java.util.Locale;

/**
 * A test class's view of the shared Elasticsearch: a client, the node's URL, and index names of its own.
 *
 * <p>This class is threadsafe.
 */
public final class ElasticsearchTestNode {
    private final SharedElasticsearch shared;
    private final String indexPrefix;

    ElasticsearchTestNode(SharedElasticsearch shared, String indexPrefix) {
        this.shared = shared;
        this.indexPrefix = indexPrefix;
    }

    /** A client connected to the node; shared, do not close it. */
    public ElasticsearchClient client() {
        return shared.client();
    }

    /** The node's HTTP address, e.g. {@code http://127.0.0.1:41231}. */
    public String url() {
        return shared.url();
    }

    /** Where the node came from: {@code ELASTICSEARCH_URL}, {@code testcontainers} or {@code local node}. */
    public String source() {
        return shared.source();
    }

    /**
     * An index (or index prefix) name unique to this test class and run, e.g. {@code t-cachetest-k3f9-cache}:
     * test classes never see each other's documents.
     */
    public String index(String name) {
        return indexPrefix + "-" + name.toLowerCase(Locale.ROOT);
    }
}
