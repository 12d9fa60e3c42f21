package dev.proxymanager.monitor.elasticsearch;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Starts a local Elasticsearch and keeps it running until Ctrl-C.
 *
 * <p>Usage: {@code java -jar proxy-manager-elasticsearch-local.jar [--data DIR] [--heap 512m] [--port 9200]}.
 * The default data directory is {@code ${java.io.tmpdir}/proxy-manager/local-elasticsearch}, kept between runs.
 */
public final class LocalElasticsearchMain {
    private LocalElasticsearchMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path data = Path.of(System.getProperty("java.io.tmpdir"), "proxy-manager", "local-elasticsearch");
        LocalElasticsearch.Builder builder = LocalElasticsearch.builder();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--data" -> data = Path.of(required(args[i], value));
                case "--heap" -> builder.withHeapSize(required(args[i], value));
                case "--port" -> builder.withHttpPort(Integer.parseInt(required(args[i], value)));
                case "--help", "-h" -> {
                    System.out.println("usage: java -jar proxy-manager-elasticsearch-local.jar [--data DIR] [--heap 512m] [--port N]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i]
                        + "'; known: --data, --heap, --port, --help");
            }
            i++;
        }
        LocalElasticsearch node = builder.withDataDirectory(data).build().start();
        System.out.println("Elasticsearch " + LocalElasticsearch.bundledVersion() + " listens at " + node.httpUrl());
        System.out.println("  try: curl '" + node.httpUrl() + "/_cluster/health?pretty'");
        System.out.println("  data: " + node.dataDirectory() + "   log: " + node.logFile());
        System.out.println("Press Ctrl-C to stop.");
        new CountDownLatch(1).await(); // the shutdown hook stops the node
    }

    private static String required(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }
}
