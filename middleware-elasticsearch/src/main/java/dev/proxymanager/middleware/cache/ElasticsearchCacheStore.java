package dev.proxymanager.middleware.cache;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.core.GetResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.proxymanager.middleware.elastic.IndexTemplates;
import dev.proxymanager.middleware.elastic.PagedDelete;
import dev.proxymanager.middleware.elastic.PointInTimeScan;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A {@link CacheStore} in one Elasticsearch index (default {@value #DEFAULT_INDEX}), created at start-up with the
 * explicit mapping of {@code cache-index-template.json} when absent. One document per entry, {@code _id} =
 * {@link CacheKey#id()}, holding the key material ({@code method}, {@code url}, {@code data}, {@code params},
 * {@code headers}, {@code key_material}), the {@code response} ({@code status}, {@code headers}, {@code body} for
 * text or {@code body_base64}, {@code content_type}), {@code endpoint}, {@code created_at}, {@code expires_at} and
 * {@code schema_version}. Reads are real-time gets; expired entries are purged in pages ({@link PagedDelete}).
 *
 * <p>The response's {@code set-cookie} headers are not stored: cookies belong to one client session.
 *
 * <p>The client is the caller's: {@link #close()} does not close it. This class is threadsafe.
 */
public final class ElasticsearchCacheStore implements CacheStore {
    /** The default index name. */
    public static final String DEFAULT_INDEX = "proxy-manager-cache";
    /** Format version of the documents this store writes. */
    public static final int SCHEMA_VERSION = 1;
    /** Classpath resource (next to this class) holding the index template: settings and mappings. */
    public static final String TEMPLATE_RESOURCE = "cache-index-template.json";

    private static final ObjectNode TEMPLATE = IndexTemplates.load(ElasticsearchCacheStore.class, TEMPLATE_RESOURCE);

    private final ElasticsearchClient client;
    private final String index;
    private final int replicas;
    private final int purgePageSize;
    private volatile boolean indexReady;

    private ElasticsearchCacheStore(Builder b) {
        this.client = b.client;
        this.index = b.index;
        this.replicas = b.replicas;
        this.purgePageSize = b.purgePageSize;
    }

    /** Starts a store that uses {@code client}. */
    public static Builder builder(ElasticsearchClient client) {
        return new Builder(client);
    }

    /** The index name. */
    public String index() {
        return index;
    }

    /**
     * Creates the index with its mapping if it does not exist. Called lazily by the first read or write too, so a
     * cluster that is down at start-up only delays this.
     *
     * @throws CacheStoreException if Elasticsearch cannot be reached or rejects the index
     */
    public void start() {
        try {
            IndexTemplates.createIndexIfAbsent(client, index, TEMPLATE, replicas);
            indexReady = true;
        } catch (IOException | ElasticsearchException e) {
            throw new CacheStoreException("creating cache index " + index + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<CachedResponse> get(String id) {
        Objects.requireNonNull(id, "id");
        ensureIndex();
        GetResponse<ObjectNode> response;
        try {
            response = client.get(g -> g.index(index).id(id).realtime(true), ObjectNode.class);
        } catch (ElasticsearchException e) {
            if (e.status() == 404) {
                indexReady = false; // the index was deleted under us: recreate it on the next call
                return Optional.empty();
            }
            throw new CacheStoreException("cache get from " + index + " failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CacheStoreException("cache get from " + index + " failed: " + e.getMessage(), e);
        }
        if (!response.found() || response.source() == null) {
            return Optional.empty();
        }
        return Optional.of(parse(id, response.source()));
    }

    @Override
    public void put(CacheKey key, CachedResponse response) {
        if (response.expiresAt().isEmpty() || response.createdAt().isEmpty()) {
            throw new IllegalArgumentException("a cached response needs its times (withTimes) before put");
        }
        ensureIndex();
        Map<String, Object> doc = toDocument(key, response);
        try {
            client.index(i -> i.index(index).id(key.id()).document(doc));
        } catch (IOException | ElasticsearchException e) {
            throw new CacheStoreException("cache put into " + index + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String id) {
        try {
            client.delete(d -> d.index(index).id(id));
        } catch (ElasticsearchException e) {
            if (e.status() != 404) {
                throw new CacheStoreException("cache delete from " + index + " failed: " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new CacheStoreException("cache delete from " + index + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public long purgeExpiredBefore(Instant cutoff) {
        Query expired = Query.of(q -> q.range(r -> r.date(d -> d.field("expires_at").lt(cutoff.toString()))));
        try {
            // a search only sees refreshed documents; entries written since the last refresh would escape the purge
            client.indices().refresh(r -> r.index(index));
            return PagedDelete.builder(client, index).withQuery(expired).withPageSize(purgePageSize).build().run();
        } catch (IOException | ElasticsearchException e) {
            throw new CacheStoreException("cache purge in " + index + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        // the client belongs to the caller
    }

    private void ensureIndex() {
        if (!indexReady) {
            start();
        }
    }

    static Map<String, Object> toDocument(CacheKey key, CachedResponse response) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("method", key.method());
        doc.put("url", key.url());
        doc.put("data", key.data());
        doc.put("params", key.params());
        doc.put("headers", key.headers());
        doc.put("endpoint", key.endpoint());
        doc.put("key_material", key.material());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", response.status());
        Map<String, List<String>> headers = new TreeMap<>(response.headers());
        headers.remove("set-cookie");
        r.put("headers", headers);
        byte[] body = response.body();
        String text = isTextual(response.contentType().orElse(null)) ? CacheKey.utf8OrNull(body) : null;
        if (text != null) {
            r.put("body", text);
        } else {
            r.put("body_base64", Base64.getEncoder().encodeToString(body));
        }
        response.contentType().ifPresent(ct -> r.put("content_type", ct));
        doc.put("response", r);
        doc.put("created_at", response.createdAt().orElseThrow().toString());
        doc.put("expires_at", response.expiresAt().orElseThrow().toString());
        doc.put("schema_version", SCHEMA_VERSION);
        return doc;
    }

    static CachedResponse parse(String id, JsonNode doc) {
        int version = doc.path("schema_version").asInt(-1);
        if (version != SCHEMA_VERSION) {
            throw new CorruptCacheEntryException(id, "schema_version must be " + SCHEMA_VERSION + ", was "
                    + doc.path("schema_version"), null);
        }
        JsonNode r = doc.path("response");
        if (!r.path("status").canConvertToInt()) {
            throw new CorruptCacheEntryException(id, "response.status must be an integer, was " + r.path("status"),
                    null);
        }
        byte[] body;
        if (r.hasNonNull("body")) {
            body = r.get("body").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } else if (r.hasNonNull("body_base64")) {
            try {
                body = Base64.getDecoder().decode(r.get("body_base64").asText());
            } catch (IllegalArgumentException e) {
                throw new CorruptCacheEntryException(id, "response.body_base64 is not base64", e);
            }
        } else {
            throw new CorruptCacheEntryException(id, "response.body or response.body_base64 is required", null);
        }
        Map<String, List<String>> headers = new TreeMap<>();
        JsonNode h = r.path("headers");
        if (h.isObject()) {
            h.properties().forEach(e -> {
                List<String> values = new ArrayList<>();
                if (e.getValue().isArray()) {
                    e.getValue().forEach(v -> values.add(v.asText()));
                } else {
                    values.add(e.getValue().asText());
                }
                headers.put(e.getKey(), values);
            });
        }
        Instant created = instant(id, doc, "created_at");
        Instant expires = instant(id, doc, "expires_at");
        String contentType = r.hasNonNull("content_type") ? r.get("content_type").asText() : null;
        try {
            return CachedResponse.of(r.get("status").asInt(), headers, body, contentType).withTimes(created, expires);
        } catch (IllegalArgumentException e) {
            throw new CorruptCacheEntryException(id, e.getMessage(), e);
        }
    }

    private static Instant instant(String id, JsonNode doc, String field) {
        JsonNode n = doc.path(field);
        if (!n.isTextual()) {
            throw new CorruptCacheEntryException(id, field + " must be an ISO-8601 instant, was " + n, null);
        }
        try {
            return Instant.parse(n.asText());
        } catch (DateTimeParseException e) {
            throw new CorruptCacheEntryException(id, field + " must be an ISO-8601 instant, was " + n, e);
        }
    }

    private static boolean isTextual(String contentType) {
        if (contentType == null) {
            return false;
        }
        String ct = contentType.toLowerCase(Locale.ROOT);
        return ct.startsWith("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("javascript")
                || ct.startsWith("application/x-www-form-urlencoded");
    }

    /** Builds an {@link ElasticsearchCacheStore}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final ElasticsearchClient client;
        private String index = DEFAULT_INDEX;
        private int replicas = 0;
        private int purgePageSize = 1000;

        private Builder(ElasticsearchClient client) {
            this.client = Objects.requireNonNull(client, "client");
        }

        /** The index name; default {@value #DEFAULT_INDEX}. Lower-case, as Elasticsearch requires. */
        public Builder withIndex(String index) {
            Objects.requireNonNull(index, "index");
            if (index.isBlank() || !index.equals(index.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("cache index must be a non-blank lower-case name, was " + index);
            }
            this.index = index;
            return this;
        }

        /** {@code number_of_replicas} of a created index; default 0 (one node). Use 1+ on a real cluster. */
        public Builder withReplicas(int replicas) {
            if (replicas < 0) {
                throw new IllegalArgumentException("cache index replicas must be >= 0, was " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        /** Entries deleted per page when purging; default 1000. */
        public Builder withPurgePageSize(int pageSize) {
            this.purgePageSize = PointInTimeScan.checkPageSize("cache purge page size", pageSize);
            return this;
        }

        /** Builds the store; does no I/O (call {@link ElasticsearchCacheStore#start()} to create the index early). */
        public ElasticsearchCacheStore build() {
            return new ElasticsearchCacheStore(this);
        }
    }
}
