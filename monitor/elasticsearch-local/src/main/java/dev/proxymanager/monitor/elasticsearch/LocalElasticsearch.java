package dev.proxymanager.monitor.elasticsearch;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Elasticsearch on a free loopback port, for tests and for the server's embedded default.
 *
 * <p>The node runs from the jars of {@code org.elasticsearch:elasticsearch} and its modules, which the build
 * resolves from Maven Central and bundles into this module's jar: nothing is downloaded at run time and no Docker
 * engine is needed. {@link #start()} unpacks that bundle once per machine (see {@link ElasticsearchHome}), writes
 * the node's configuration into the data directory chosen by the caller, starts the node in its own JVM, and waits
 * until every primary shard is active (green, or yellow for indices that want replicas). Such a node has only the server core and the HTTP transport: no ILM, no ingest
 * pipelines, no {@code _delete_by_query}, no security (see {@code shared/ELASTICSEARCH.md}).
 *
 * <p>Elasticsearch refuses to run as root. When this JVM runs as root the node is started as
 * {@link Builder#withRunAsUser(String) another user} (default {@code nobody}) with {@code setpriv}, and the data
 * directory is handed to that user.
 *
 * <p>A stopped node can be {@link #start() started} again; it comes back on the same HTTP port, so clients keep
 * working after an outage. The node also stops when this JVM exits (its standard input closes).
 *
 * <p>This class is threadsafe.
 */
public final class LocalElasticsearch implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LocalElasticsearch.class.getName());
    private static final int LOG_TAIL_LINES = 40;

    private final Path dataDirectory;
    private final String heapSize;
    private final Duration startupTimeout;
    private final String runAsUser;
    private final Path javaHome;
    private final Path home;

    private Process process;
    private OutputStream processStdin;
    private int httpPort;
    private Thread shutdownHook;

    private LocalElasticsearch(Builder b) {
        this.dataDirectory = b.dataDirectory.toAbsolutePath().normalize();
        this.heapSize = b.heapSize;
        this.startupTimeout = b.startupTimeout;
        this.runAsUser = b.runAsUser;
        this.javaHome = b.javaHome;
        this.home = b.home;
        this.httpPort = b.httpPort;
    }

    /** A builder; {@link Builder#withDataDirectory(Path)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The Elasticsearch version this module bundles, e.g. {@code 9.5.3}. */
    public static String bundledVersion() {
        return ElasticsearchHome.bundledVersion();
    }

    /**
     * Starts the node and waits until the cluster is green (yellow once indices with replicas exist: one node). Does nothing if it is already running.
     *
     * @return this node
     * @throws LocalElasticsearchException if the node cannot be provisioned or does not come up within the
     *     startup timeout; its message carries the tail of the node's log
     */
    public synchronized LocalElasticsearch start() {
        if (isRunning()) {
            return this;
        }
        long startNanos = System.nanoTime();
        Path esHome = home != null ? home : ElasticsearchHome.provision();
        NodeLayout layout = NodeLayout.prepare(dataDirectory, httpPort);
        RunAs runAs = RunAs.decide(runAsUser, dataDirectory);
        Path java = javaHome.resolve("bin").resolve("java");

        byte[] serverArgs = ServerArgs.write(java, esHome, layout);
        runAs.handOver(dataDirectory);

        List<String> command = new ArrayList<>(runAs.prefix());
        command.add(java.toString());
        command.addAll(NodeJvmOptions.forNode(esHome, layout, heapSize));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(esHome.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.outputFile().toFile()));
        pb.environment().put("LIBFFI_TMPDIR", layout.tmpDirectory().toString());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        try {
            process = pb.start();
            // The node reads its ServerArgs from stdin and then keeps reading: EOF means "parent died". So the
            // stream stays open for the node's whole life and closes with this JVM.
            processStdin = process.getOutputStream();
            processStdin.write(serverArgs);
            processStdin.flush();
        } catch (IOException e) {
            destroyProcess();
            throw new LocalElasticsearchException("could not start the Elasticsearch JVM " + java + ": "
                    + e.getMessage() + layout.logTail(LOG_TAIL_LINES), e);
        }
        registerShutdownHook();
        try {
            httpPort = waitForHttpPort(layout, startNanos);
            waitForGreen(layout, startNanos);
        } catch (RuntimeException e) {
            destroyProcess();
            throw e;
        }
        LOG.log(Level.INFO, "Elasticsearch {0} is up at {1} (pid {2}, data {3}) after {4} ms",
                bundledVersion(), httpUrl(), process.pid(), dataDirectory,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        return this;
    }

    /** Stops the node (SIGTERM, then a kill after 30 s) and waits for it to exit. Does nothing if it is not running. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        destroyProcess();
        LOG.log(Level.INFO, "Elasticsearch at port {0} stopped", httpPort);
    }

    /** Stops the node; see {@link #stop()}. */
    @Override
    public void close() {
        stop();
        synchronized (this) {
            if (shutdownHook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already exiting; the hook is running or has run
                }
                shutdownHook = null;
            }
        }
    }

    /** Whether the node's process is alive. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * The node's HTTP address, e.g. {@code http://127.0.0.1:41231}.
     *
     * @throws IllegalStateException if the node was never started
     */
    public synchronized String httpUrl() {
        return "http://127.0.0.1:" + httpPort();
    }

    /**
     * The node's HTTP port: free when first started, the same on every restart.
     *
     * @throws IllegalStateException if the node was never started
     */
    public synchronized int httpPort() {
        if (httpPort == 0) {
            throw new IllegalStateException("the node has not been started yet");
        }
        return httpPort;
    }

    /** The data directory given to the builder; it holds {@code data/}, {@code logs/} and {@code config/}. */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The file that receives the node's standard output and error. */
    public Path logFile() {
        return NodeLayout.of(dataDirectory).outputFile();
    }

    private int waitForHttpPort(NodeLayout layout, long startNanos) {
        while (true) {
            checkAlive(layout);
            Integer port = layout.readHttpPort();
            if (port != null) {
                return port;
            }
            pauseOrTimeOut(layout, startNanos, "the node to bind its HTTP port");
        }
    }

    private void waitForGreen(NodeLayout layout, long startNanos) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        // yellow = every primary is active; on one node an index with replicas (the default) never turns green
        URI health = URI.create(httpUrl() + "/_cluster/health?wait_for_status=yellow&timeout=1s");
        while (true) {
            checkAlive(layout);
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(health)
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && !response.body().contains("\"status\":\"red\"")
                        && !response.body().contains("\"timed_out\":true")) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LocalElasticsearchException("interrupted while waiting for Elasticsearch to come up"
                        + layout.logTail(LOG_TAIL_LINES), e);
            }
            pauseOrTimeOut(layout, startNanos, "the cluster's primaries to become active");
        }
    }

    private void checkAlive(NodeLayout layout) {
        if (!process.isAlive()) {
            throw new LocalElasticsearchException("Elasticsearch exited with code " + process.exitValue()
                    + " during start-up; its log is " + layout.outputFile() + layout.logTail(LOG_TAIL_LINES));
        }
    }

    private void pauseOrTimeOut(NodeLayout layout, long startNanos, String what) {
        if (System.nanoTime() - startNanos > startupTimeout.toNanos()) {
            throw new LocalElasticsearchException("timed out after " + startupTimeout.toSeconds()
                    + " s waiting for " + what + "; its log is " + layout.outputFile() + layout.logTail(LOG_TAIL_LINES));
        }
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalElasticsearchException("interrupted while waiting for " + what, e);
        }
    }

    private void destroyProcess() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            if (processStdin != null) {
                processStdin.close();
            }
        } catch (IOException ignored) {
            // the pipe is gone with the process
        }
        processStdin = null;
    }

    private void registerShutdownHook() {
        if (shutdownHook == null) {
            shutdownHook = new Thread(this::stop, "local-elasticsearch-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /** Builds a {@link LocalElasticsearch}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private Path dataDirectory;
        private String heapSize = "512m";
        private Duration startupTimeout = Duration.ofSeconds(90);
        private String runAsUser = "nobody";
        private Path javaHome = Path.of(System.getProperty("java.home"));
        private Path home;
        private int httpPort;

        private Builder() {
        }

        /** Where the node keeps its data, logs and configuration (required). Tests pass a temporary directory. */
        public Builder withDataDirectory(Path dataDirectory) {
            this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
            return this;
        }

        /** The node's JVM heap, as {@code -Xmx} takes it, e.g. {@code 256m} or {@code 1g}. Default {@code 512m}. */
        public Builder withHeapSize(String heapSize) {
            Objects.requireNonNull(heapSize, "heapSize");
            if (!heapSize.matches("\\d+[kKmMgG]")) {
                throw new IllegalArgumentException("heapSize must look like 512m or 1g, was '" + heapSize + "'");
            }
            this.heapSize = heapSize;
            return this;
        }

        /** How long {@link #start()} waits for the node to come up before it gives up. Default 90 s. */
        public Builder withStartupTimeout(Duration startupTimeout) {
            Objects.requireNonNull(startupTimeout, "startupTimeout");
            if (startupTimeout.isNegative() || startupTimeout.isZero()) {
                throw new IllegalArgumentException("startupTimeout must be > 0, was " + startupTimeout);
            }
            this.startupTimeout = startupTimeout;
            return this;
        }

        /** The user the node runs as when this JVM runs as root. Default {@code nobody}. */
        public Builder withRunAsUser(String runAsUser) {
            this.runAsUser = Objects.requireNonNull(runAsUser, "runAsUser");
            return this;
        }

        /** The JDK (21 or newer) that runs the node. Default: the one running this JVM. */
        public Builder withJavaHome(Path javaHome) {
            this.javaHome = Objects.requireNonNull(javaHome, "javaHome");
            return this;
        }

        /** An already assembled Elasticsearch home to run instead of the bundled one. Default: the bundled one. */
        public Builder withHome(Path home) {
            this.home = Objects.requireNonNull(home, "home");
            return this;
        }

        /** A fixed HTTP port; default 0, a free one chosen when the node binds. */
        public Builder withHttpPort(int httpPort) {
            if (httpPort < 0 || httpPort > 65535) {
                throw new IllegalArgumentException("httpPort must be within 0-65535, was " + httpPort);
            }
            this.httpPort = httpPort;
            return this;
        }

        public LocalElasticsearch build() {
            if (dataDirectory == null) {
                throw new NullPointerException("dataDirectory is required: call withDataDirectory(Path)");
            }
            if (!Files.isExecutable(javaHome.resolve("bin").resolve("java"))) {
                throw new IllegalArgumentException("javaHome has no bin/java: " + javaHome);
            }
            return new LocalElasticsearch(this);
        }
    }

    static String readTail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(could not read " + file + ": " + e.getMessage() + ")";
        }
    }
}
