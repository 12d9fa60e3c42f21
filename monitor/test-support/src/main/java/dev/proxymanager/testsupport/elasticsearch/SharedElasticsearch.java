package dev.proxymanager.testsupport.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import dev.proxymanager.monitor.elasticsearch.LocalElasticsearch;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.elasticsearch.ElasticsearchContainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one Elasticsearch of this test JVM, chosen on first use and stopped when the JVM exits:
 * <ol>
 *   <li>{@code ELASTICSEARCH_URL} (environment) or {@code elasticsearch.url} (system property) when set;</li>
 *   <li>else a Testcontainers Elasticsearch when a Docker engine is reachable;</li>
 *   <li>else the local node ({@link LocalElasticsearch}) in a temporary directory.</li>
 * </ol>
 * A failure is reported, never turned into a skip.
 */
final class SharedElasticsearch {
    private static final String IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:" + LocalElasticsearch.bundledVersion();
    private static SharedElasticsearch instance;

    private final String url;
    private final String source;
    private final ElasticsearchClient client;

    private SharedElasticsearch(String url, String source) {
        this.url = url;
        this.source = source;
        this.client = ElasticsearchClient.of(b -> b.host(url));
    }

    static synchronized SharedElasticsearch get() {
        if (instance == null) {
            instance = start();
            String version;
            try {
                version = instance.client.cat().nodes(n -> n.h("version")).nodes().stream()
                        .map(n -> n.version()).findFirst().orElse("unknown");
            } catch (IOException e) {
                SharedElasticsearch failed = instance;
                instance = null;
                throw new UncheckedIOException("Elasticsearch at " + failed.url + " (" + failed.source
                        + ") does not answer: " + e.getMessage(), e);
            }
            System.out.println("[test-support] Elasticsearch " + version + " at " + instance.url + " (" + instance.source + ")");
        }
        return instance;
    }

    private static SharedElasticsearch start() {
        String configured = System.getenv("ELASTICSEARCH_URL");
        if (configured == null || configured.isBlank()) {
            configured = System.getProperty("elasticsearch.url");
        }
        if (configured != null && !configured.isBlank()) {
            return new SharedElasticsearch(configured.strip(), "ELASTICSEARCH_URL");
        }
        if (dockerReachable()) {
            ElasticsearchContainer container = new ElasticsearchContainer(IMAGE)
                    .withEnv("xpack.security.enabled", "false")
                    .withEnv("ES_JAVA_OPTS", "-Xms512m -Xmx512m");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "elasticsearch-container-stop"));
            return new SharedElasticsearch("http://" + container.getHttpHostAddress(), "testcontainers");
        }
        try {
            Path data = Files.createTempDirectory("proxy-manager-test-es-");
            String heap = System.getProperty("elasticsearch.heap", "512m");
            LocalElasticsearch node = LocalElasticsearch.builder().withDataDirectory(data).withHeapSize(heap).build().start();
            // LocalElasticsearch stops itself when the JVM exits
            return new SharedElasticsearch(node.httpUrl(), "local node");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asks Testcontainers only when there is a sign of a Docker engine: its probe is slow and noisy without one. */
    private static boolean dockerReachable() {
        boolean hint = System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".docker", "run", "docker.sock"));
        if (!hint) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    ElasticsearchClient client() {
        return client;
    }

    String url() {
        return url;
    }

    String source() {
        return source;
    }
}
