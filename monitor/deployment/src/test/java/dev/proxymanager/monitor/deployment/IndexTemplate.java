package dev.proxymanager.monitor.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One of our composable index templates (the body of {@code PUT _index_template/<name>}), read from the repository:
 * its index patterns and its mapped fields, flattened to dotted paths ({@code url.text}, {@code response.status}).
 */
record IndexTemplate(String file, List<String> indexPatterns, Map<String, String> fieldTypes, JsonNode body) {

    static final String REQUEST_LOG =
            "middleware-elasticsearch/src/main/resources/dev/proxymanager/middleware/log/request-log-template.json";
    static final String CACHE =
            "middleware-elasticsearch/src/main/resources/dev/proxymanager/middleware/cache/cache-index-template.json";
    static final String LOGS = "monitor/elasticsearch/logs-index-template.json";

    static List<IndexTemplate> all() {
        return List.of(read(REQUEST_LOG), read(CACHE), read(LOGS));
    }

    static IndexTemplate read(String file) {
        try {
            JsonNode body = new ObjectMapper().readTree(RepositoryFiles.read(file));
            List<String> patterns = new ArrayList<>();
            body.path("index_patterns").forEach(p -> patterns.add(p.asText()));
            Map<String, String> fields = new LinkedHashMap<>();
            flatten("", body.path("template").path("mappings").path("properties"), fields);
            return new IndexTemplate(file, List.copyOf(patterns), Map.copyOf(fields), body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether an index or data view pattern (which may itself hold {@code *}) names indices of this template. */
    boolean covers(String indexOrPattern) {
        String concrete = indexOrPattern.replace("*", "x");
        return indexPatterns.stream().anyMatch(p -> globToRegex(p).matcher(concrete).matches());
    }

    private static Pattern globToRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (String part : glob.split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    private static void flatten(String prefix, JsonNode properties, Map<String, String> fields) {
        properties.properties().forEach(entry -> {
            String path = prefix + entry.getKey();
            JsonNode mapping = entry.getValue();
            if (mapping.has("properties")) {
                fields.put(path, "object");
                flatten(path + ".", mapping.path("properties"), fields);
            } else {
                fields.put(path, mapping.path("type").asText("object"));
            }
            mapping.path("fields").properties()
                    .forEach(sub -> fields.put(path + "." + sub.getKey(), sub.getValue().path("type").asText()));
        });
    }
}
