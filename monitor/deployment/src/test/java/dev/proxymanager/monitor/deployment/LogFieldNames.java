package dev.proxymanager.monitor.deployment;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The field names of {@code dev.proxymanager.middleware.log.LogFields}, read from its source: the constants that
 * the index templates, the Logstash pipeline and the dashboards must agree with.
 */
final class LogFieldNames {

    static final String SOURCE = "middleware/src/main/java/dev/proxymanager/middleware/log/LogFields.java";
    private static final Pattern CONSTANT = Pattern.compile("public static final String \\w+ = \"([^\"]+)\";");

    private LogFieldNames() {
    }

    static List<String> all() {
        List<String> names = new ArrayList<>();
        Matcher constants = CONSTANT.matcher(RepositoryFiles.read(SOURCE));
        while (constants.find()) {
            names.add(constants.group(1));
        }
        if (names.size() < 10) {
            throw new IllegalStateException("found only " + names + " in " + SOURCE);
        }
        return List.copyOf(names);
    }
}
