package dev.proxymanager.middleware.store.redis;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * A worker process of these tests: a JVM running one of their main classes on the tests' classpath, with what it
 * prints (standard output and error together) collected line by line, and lines sent to its standard input.
 */
final class ChildJvm {

    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private ChildJvm(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed: " + e.getMessage() + ")");
            }
        }, "child-jvm-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code main} with {@code jvmOptions} (heap, GC, JIT) and {@code args}. */
    static ChildJvm start(Class<?> main, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(Arrays.asList(args));
        return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Sends {@code line} to the worker's standard input. */
    void tell(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        process.getOutputStream().flush();
    }

    /**
     * The first line starting with {@code prefix}, once printed; fails at once when the worker has exited and all its
     * output is read without one, and after {@code atMost} otherwise, naming the worker's output.
     */
    String awaitLine(String prefix, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(20))
                .failFast("worker exited without " + prefix + "; its output: " + lines,
                        () -> !process.isAlive() && !reader.isAlive() && first(prefix) == null)
                .until(() -> first(prefix) != null);
        return first(prefix);
    }

    /** The comma-separated numbers of the first line starting with {@code prefix}; empty when there is none. */
    List<Long> numbers(String prefix) {
        String line = first(prefix);
        if (line == null) {
            return List.of();
        }
        String rest = line.substring(prefix.length()).trim();
        return rest.isEmpty() ? List.of() : Arrays.stream(rest.split(",")).map(Long::parseLong).toList();
    }

    private String first(String prefix) {
        for (String l : lines) {
            if (l.startsWith(prefix)) {
                return l;
            }
        }
        return null;
    }
}
