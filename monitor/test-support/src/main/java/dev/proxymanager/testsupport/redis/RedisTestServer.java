package dev.proxymanager.testsupport.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, with a temporary working directory and no persistence
 * ({@code --save ''}, no AOF). Use {@link #shared()} for the one server of this test JVM, or {@link #dedicated()} for
 * a server of your own that you may {@link #stop()} and {@link #start()} again (same port) to simulate an outage.
 *
 * <p>The binary is {@code redis.server} (system property), else {@code REDIS_SERVER} (environment), else
 * {@code /usr/bin/redis-server}, else {@code redis-server} on the {@code PATH}. A missing binary is an
 * {@link IllegalStateException} saying how to install it — never a skipped test. Every server is stopped when the
 * JVM exits. This class is threadsafe.
 */
public final class RedisTestServer implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static RedisTestServer shared;

    private final Path binary;
    private final Path dir;
    private final int port;
    private Process process;

    private RedisTestServer(Path binary, Path dir, int port) {
        this.binary = binary;
        this.dir = dir;
        this.port = port;
    }

    /** The server shared by every test of this JVM, started on first use. Do not stop it. */
    public static synchronized RedisTestServer shared() {
        if (shared == null) {
            shared = dedicated();
            System.out.println("[test-support] redis-server at " + shared.uri() + " (shared)");
        }
        return shared;
    }

    /** A new running server for one test class; close it when done (it is also stopped at JVM exit). */
    public static RedisTestServer dedicated() {
        try {
            RedisTestServer s = new RedisTestServer(findBinary(), Files.createTempDirectory("proxy-manager-redis-"),
                    freePort());
            Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "redis-test-server-stop"));
            return s.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a redis-server: " + e.getMessage(), e);
        }
    }

    /** The loopback port the server listens on (the same across {@link #stop()}/{@link #start()}). */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Whether the process is running. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Starts the server (again) on its port and waits until it answers {@code PING}. No-op when running.
     *
     * @throws IllegalStateException when it does not answer within 20 s (its log is in the message)
     */
    public synchronized RedisTestServer start() {
        if (isRunning()) {
            return this;
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString(), "--daemonize", "no",
                "--protected-mode", "no"));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.stdout").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + " on port " + port
                        + ": " + log());
            }
            if (ping()) {
                return this;
            }
            try {
                process.waitFor(50, TimeUnit.MILLISECONDS); // poll the port while the server starts
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting redis-server", e);
            }
        }
        stop();
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within " + START_TIMEOUT
                + ": " + log());
    }

    /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. No-op when stopped. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Removes every key ({@code FLUSHALL}). */
    public void flushAll() {
        String reply = command("FLUSHALL");
        if (!reply.startsWith("+OK")) {
            throw new IllegalStateException("FLUSHALL on " + uri() + " answered " + reply);
        }
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "RedisTestServer[" + uri() + (isRunning() ? ", running" : ", stopped") + "]";
    }

    private boolean ping() {
        try {
            return command("PING").startsWith("+PONG");
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** Sends one inline command and returns the first reply line. */
    private String command(String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                line.append((char) c);
            }
            return line.toString().strip();
        } catch (IOException e) {
            throw new IllegalStateException("redis-server on port " + port + " unreachable: " + e.getMessage(), e);
        }
    }

    private String log() {
        try {
            Path log = dir.resolve("redis.log");
            Path out = dir.resolve("redis.stdout");
            return (Files.exists(log) ? Files.readString(log) : "") + (Files.exists(out) ? Files.readString(out) : "");
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private static Path findBinary() {
        String configured = System.getProperty("redis.server");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("REDIS_SERVER");
        }
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured.strip());
            if (Files.isExecutable(p)) {
                return p;
            }
            throw new IllegalStateException("redis.server / REDIS_SERVER points to " + p + ", which is not executable");
        }
        Path usual = Path.of("/usr/bin/redis-server");
        if (Files.isExecutable(usual)) {
            return usual;
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(d, "redis-server");
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException("redis-server not found (looked at -Dredis.server, REDIS_SERVER, "
                + "/usr/bin/redis-server and the PATH); install it: 'apt-get install redis-server' (bash .ci/run does)");
    }
}
