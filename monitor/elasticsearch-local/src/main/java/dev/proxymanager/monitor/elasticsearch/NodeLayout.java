package dev.proxymanager.monitor.elasticsearch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One node's folders and files inside the caller's data directory, and the configuration written there. */
record NodeLayout(Path root) {

    static NodeLayout of(Path root) {
        return new NodeLayout(root);
    }

    /** Creates the folders and writes {@code elasticsearch.yml} and {@code log4j2.properties}. */
    static NodeLayout prepare(Path root, int httpPort) {
        NodeLayout layout = new NodeLayout(root);
        try {
            for (Path dir : List.of(layout.configDirectory(), layout.dataPath(), layout.logsDirectory(), layout.tmpDirectory())) {
                Files.createDirectories(dir);
            }
            Files.deleteIfExists(layout.httpPortsFile()); // a stale file from the last run must not be read as this one's
            Files.writeString(layout.configDirectory().resolve("elasticsearch.yml"), String.join("\n",
                    "cluster.name: proxy-manager-local",
                    "node.name: local-node",
                    "discovery.type: single-node",
                    "network.host: 127.0.0.1",
                    "http.port: " + httpPort,
                    "transport.port: 0",
                    // writes logs/http.ports once bound, which is how a free port (0) is learned
                    "node.portsfile: true",
                    "path.data: " + layout.dataPath(),
                    "path.logs: " + layout.logsDirectory(),
                    // a developer's nearly full disk must not turn the node read-only
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    ""), StandardCharsets.UTF_8);
            Files.writeString(layout.configDirectory().resolve("log4j2.properties"), String.join("\n",
                    "status = error",
                    "appender.console.type = Console",
                    "appender.console.name = console",
                    "appender.console.layout.type = PatternLayout",
                    "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
                    "rootLogger.level = info",
                    "rootLogger.appenderRef.console.ref = console",
                    ""), StandardCharsets.UTF_8);
            Files.writeString(layout.outputFile(), "", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LocalElasticsearchException("could not prepare the data directory " + root + ": " + e, e);
        }
        return layout;
    }

    Path configDirectory() {
        return root.resolve("config");
    }

    Path dataPath() {
        return root.resolve("data");
    }

    Path logsDirectory() {
        return root.resolve("logs");
    }

    Path tmpDirectory() {
        return root.resolve("tmp");
    }

    Path outputFile() {
        return root.resolve("elasticsearch.out");
    }

    Path httpPortsFile() {
        return logsDirectory().resolve("http.ports");
    }

    Path serverArgsFile() {
        return root.resolve("serverargs.bin");
    }

    /** The bound HTTP port from the ports file, or null while the node has not bound yet. */
    Integer readHttpPort() {
        try {
            if (!Files.exists(httpPortsFile())) {
                return null;
            }
            for (String line : Files.readAllLines(httpPortsFile(), StandardCharsets.UTF_8)) {
                int colon = line.lastIndexOf(':');
                if (line.startsWith("127.0.0.1") && colon > 0) {
                    return Integer.parseInt(line.substring(colon + 1).trim());
                }
            }
            return null;
        } catch (IOException | NumberFormatException e) {
            return null; // written but not complete yet
        }
    }

    String logTail(int lines) {
        String tail = LocalElasticsearch.readTail(outputFile(), lines);
        return tail.isEmpty() ? "" : "\n--- last lines of " + outputFile() + " ---\n" + tail;
    }
}
