package dev.proxymanager.testsupport.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A real HTTP proxy for tests: a {@code tinyproxy} process on a free loopback port, with its own config (only
 * 127.0.0.1 allowed; optional Basic credentials; run as {@code nobody:nogroup} when we are root, since tinyproxy
 * will not run as root). Each instance names itself in the {@code Via} header it adds
 * ({@code 1.1 <name> (tinyproxy/…)}), so an upstream can tell which proxy a request came through.
 *
 * <pre>{@code
 * try (Tinyproxy proxy = Tinyproxy.start("p1")) {
 *     String url = proxy.url();   // http://127.0.0.1:<port>
 * }
 * }</pre>
 *
 * <p>Needs {@code /usr/bin/tinyproxy} (apt package {@code tinyproxy}). Not threadsafe.
 */
public final class Tinyproxy implements AutoCloseable {

    /** The tinyproxy binary. */
    public static final Path BINARY = Path.of("/usr/bin/tinyproxy");
    /** How long {@link #start} waits for the port to accept connections. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final int port;
    private final String user;
    private final String password;
    private final Path dir;
    private Process process;

    private Tinyproxy(String name, int port, String user, String password, Path dir) {
        this.name = name;
        this.port = port;
        this.user = user;
        this.password = password;
        this.dir = dir;
    }

    /** Starts a proxy without credentials, named {@code name} in its {@code Via} header. */
    public static Tinyproxy start(String name) {
        return start(name, null, null);
    }

    /**
     * Starts a proxy that asks for Basic credentials {@code user}/{@code password} (both null for none).
     *
     * @throws IllegalStateException if tinyproxy is missing or does not accept connections within
     *                               {@link #START_TIMEOUT} (the message includes its output)
     */
    public static Tinyproxy start(String name, String user, String password) {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("name must be letters, digits, '.', '_' or '-', was " + name);
        }
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("give both user and password, or neither");
        }
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: install the tinyproxy package");
        }
        try {
            Path dir = Files.createTempDirectory("tinyproxy-" + name);
            Tinyproxy p = new Tinyproxy(name, freePort(), user, password, dir);
            p.launch();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start tinyproxy " + name, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void launch() throws IOException {
        StringBuilder conf = new StringBuilder()
                .append("Port ").append(port).append('\n')
                .append("Listen 127.0.0.1\n")
                .append("Timeout 60\n")
                .append("MaxClients 200\n")
                .append("Allow 127.0.0.1\n")
                .append("LogLevel Warning\n")
                .append("ViaProxyName \"").append(name).append("\"\n");
        if (user != null) {
            conf.append("BasicAuth ").append(user).append(' ').append(password).append('\n');
        }
        if ("root".equals(System.getProperty("user.name"))) {
            conf.append("User nobody\nGroup nogroup\n");
        }
        Path confFile = dir.resolve("tinyproxy.conf");
        Files.writeString(confFile, conf.toString(), StandardCharsets.UTF_8);
        Path out = dir.resolve("tinyproxy.out");
        process = new ProcessBuilder(BINARY.toString(), "-d", "-c", confFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tinyproxy " + name + " exited with " + process.exitValue() + ": "
                        + output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                // the real process is still starting: poll again shortly
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        stop();
        throw new IllegalStateException("tinyproxy " + name + " did not accept connections on port " + port
                + " within " + START_TIMEOUT + ": " + output());
    }

    private String output() {
        try {
            return Files.readString(dir.resolve("tinyproxy.out"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** The name this proxy puts in its {@code Via} header. */
    public String name() {
        return name;
    }

    /** The loopback port it listens on. */
    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:<port>}, without credentials. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** The proxy URL with its credentials, {@code http://user:password@127.0.0.1:<port>}, or {@link #url()}. */
    public String urlWithCredentials() {
        return user == null ? url() : "http://" + user + ":" + password + "@127.0.0.1:" + port;
    }

    /** True while the process runs. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the process (bounded wait; killed if it does not exit). Idempotent. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts the process again on the same port after {@link #stop()} (an upstream proxy coming back); no-op while it
     * runs.
     *
     * @throws IllegalStateException if it does not accept connections within {@link #START_TIMEOUT}
     */
    public synchronized void restart() {
        if (isRunning()) {
            return;
        }
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart tinyproxy " + name, e);
        }
    }

    /** Stops the process and deletes its files. */
    @Override
    public void close() {
        stop();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // temp files only; leaving them does not affect other tests
        }
    }

    @Override
    public String toString() {
        return "Tinyproxy[" + name + ", port=" + port + (user == null ? "" : ", auth") + "]";
    }
}
