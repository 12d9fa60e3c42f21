package dev.proxymanager.monitor.deployment;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The field names of {@code dev.proxymanager.middleware.log.LogFields}, read from its source: the constants that
 * the index templates, the Logstash pipeline and the dashboards must agree with.
 */
final class LogFieldNames {

    static final String SOURCE = "middleware/src/main/java/dev/proxymanager/middleware/log/LogFields.java";
    private static final Pattern CONSTANT = Pattern.compile("public static final String (\\w+) = \"([^\"]+)\";");
    /** The request log document's builder, where every field is put, set or not. */
    static final String ENTRY_SOURCE = "middleware/src/main/java/dev/proxymanager/middleware/log/RequestLogEntry.java";
    /** The cache document's builder. */
    static final String CACHE_SOURCE =
            "middleware-elasticsearch/src/main/java/dev/proxymanager/middleware/cache/ElasticsearchCacheStore.java";
    private static final Pattern CACHE_PUT = Pattern.compile("\\bdoc\\.put\\(\"(\\w+)\",");
    private static final Pattern ALWAYS_PUT = Pattern.compile("doc\\.put\\(LogFields\\.(\\w+),");

    private LogFieldNames() {
    }

    static List<String> all() {
        List<String> names = new ArrayList<>();
        Matcher constants = CONSTANT.matcher(RepositoryFiles.read(SOURCE));
        while (constants.find()) {
            names.add(constants.group(2));
        }
        if (names.size() < 10) {
            throw new IllegalStateException("found only " + names + " in " + SOURCE);
        }
        return List.copyOf(names);
    }

    /** The fields every request log document has: those RequestLogEntry puts unconditionally. */
    static Set<String> inEveryRequestLogDocument() {
        Map<String, String> byConstant = new HashMap<>();
        Matcher constants = CONSTANT.matcher(RepositoryFiles.read(SOURCE));
        while (constants.find()) {
            byConstant.put(constants.group(1), constants.group(2));
        }
        Set<String> fields = new HashSet<>();
        Matcher puts = ALWAYS_PUT.matcher(RepositoryFiles.read(ENTRY_SOURCE));
        while (puts.find()) {
            fields.add(byConstant.get(puts.group(1)));
        }
        if (!fields.contains("outcome") || fields.contains(null)) {
            throw new IllegalStateException("cannot tell the always-set fields from " + ENTRY_SOURCE + ": " + fields);
        }
        return Set.copyOf(fields);
    }

    /** The top-level fields every cache document has: those ElasticsearchCacheStore puts in {@code doc}. */
    static Set<String> inEveryCacheDocument() {
        Set<String> fields = new HashSet<>();
        Matcher puts = CACHE_PUT.matcher(RepositoryFiles.read(CACHE_SOURCE));
        while (puts.find()) {
            fields.add(puts.group(1));
        }
        if (!fields.contains("created_at")) {
            throw new IllegalStateException("cannot tell the always-set fields from " + CACHE_SOURCE + ": " + fields);
        }
        return Set.copyOf(fields);
    }
}
