package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.util.Objects;

/**
 * Installs our index templates and indices from the JSON resource files that are their single source
 * (the same files the docker-compose setup and the Kibana tests read).
 *
 * <p>This class is threadsafe (stateless).
 */
public final class IndexTemplates {
    private static final ObjectMapper JSON = new ObjectMapper();

    private IndexTemplates() {
    }

    /**
     * Reads an index-template body from the classpath.
     *
     * @throws IllegalArgumentException if the resource is missing or not a JSON object
     */
    public static ObjectNode load(Class<?> anchor, String resource) {
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("index template resource not found: " + resource
                        + " (relative to " + anchor.getPackageName() + ")");
            }
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("index template resource " + resource + " is not a JSON object", e);
        }
    }

    /**
     * Installs the index template {@code name} from {@code template}, matching exactly the data stream or index
     * {@code name}, with {@code number_of_replicas} set to {@code replicas} — unless a template of that name exists:
     * one installed by the operator (e.g. the docker-compose setup script, which adds an ILM policy where the
     * cluster has ILM) is kept as it is.
     *
     * @return true if this call installed the template, false if one was already there
     * @throws IOException if Elasticsearch cannot be reached
     * @throws ElasticsearchException if Elasticsearch rejects the template
     */
    public static boolean putIndexTemplateIfAbsent(ElasticsearchClient client, String name, ObjectNode template,
                                                   int replicas) throws IOException {
        return putIndexTemplateIfAbsent(client, name, template, replicas, null);
    }

    /**
     * As {@link #putIndexTemplateIfAbsent(ElasticsearchClient, String, ObjectNode, int)}, and when
     * {@code lifecyclePolicy} is not null, the template's indices use that ILM policy
     * ({@code index.lifecycle.name}).
     */
    public static boolean putIndexTemplateIfAbsent(ElasticsearchClient client, String name, ObjectNode template,
                                                   int replicas, String lifecyclePolicy) throws IOException {
        ObjectNode body = template.deepCopy();
        ArrayNode patterns = body.putArray("index_patterns");
        patterns.add(name);
        settings(body).put("number_of_replicas", replicas);
        if (lifecyclePolicy != null) {
            settings(body).put("index.lifecycle.name", lifecyclePolicy);
        }
        String json = body.toString();
        try {
            client.indices().putIndexTemplate(r -> r.name(name).create(true).withJson(new StringReader(json)));
            return true;
        } catch (ElasticsearchException e) {
            if (e.status() == 400 && e.getMessage() != null && e.getMessage().contains("already exists")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Creates {@code index} with the settings and mappings of {@code template} unless it exists.
     *
     * @return true if this call created the index
     * @throws IOException if Elasticsearch cannot be reached
     * @throws ElasticsearchException if Elasticsearch rejects the index
     */
    public static boolean createIndexIfAbsent(ElasticsearchClient client, String index, ObjectNode template,
                                              int replicas) throws IOException {
        Objects.requireNonNull(index, "index");
        if (client.indices().exists(e -> e.index(index)).value()) {
            return false;
        }
        ObjectNode body = JSON.createObjectNode();
        ObjectNode settings = settings(template.deepCopy());
        settings.put("number_of_replicas", replicas);
        body.set("settings", settings);
        body.set("mappings", template.path("template").path("mappings").deepCopy());
        String json = body.toString();
        try {
            client.indices().create(c -> c.index(index).withJson(new StringReader(json)));
            return true;
        } catch (ElasticsearchException e) {
            // another instance created it between our check and our create
            if ("resource_already_exists_exception".equals(e.error().type())) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Whether the cluster has ILM and an ILM policy named {@code policy}. False on clusters without ILM (the local
     * node, some managed offerings) — never throws for that.
     *
     * @throws IOException if Elasticsearch cannot be reached
     */
    public static boolean hasLifecyclePolicy(ElasticsearchClient client, String policy) throws IOException {
        try {
            return client.ilm().getLifecycle(g -> g.name(policy)).lifecycles().containsKey(policy);
        } catch (ElasticsearchException e) {
            return false; // 404: no such policy; 400 "no handler": no ILM on this cluster
        }
    }

    private static ObjectNode settings(ObjectNode templateBody) {
        return templateBody.withObjectProperty("template").withObjectProperty("settings");
    }
}
