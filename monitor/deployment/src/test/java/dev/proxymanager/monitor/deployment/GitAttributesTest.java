package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Scripts and the files compose mounts into Linux containers must check out with LF on Windows too: asks git itself
 * ({@code git check-attr}) which end-of-line each tracked file gets.
 */
class GitAttributesTest {

    @Test
    void everyScriptChecksOutWithLfOnEveryPlatform() throws Exception {
        List<String> scripts = new ArrayList<>(List.of("mvnw", ".ci/run", "server/Dockerfile", ".env"));
        for (String file : git("ls-files").split("\n")) {
            if (file.endsWith(".sh")) {
                scripts.add(file);
            }
        }

        assertThat(scripts).contains("monitor/setup/setup.sh");
        assertThat(eol(scripts)).as("git check-attr eol").allSatisfy((file, eol) ->
                assertThat(eol).as(file).isEqualTo("lf"));
    }

    @Test
    void everyFileComposeMountsIntoAContainerChecksOutWithLf() throws Exception {
        Compose compose = Compose.read();
        List<String> mounted = new ArrayList<>();
        compose.root().path("services").properties().forEach(service -> {
            for (Compose.Mount mount : compose.mounts(service.getKey())) {
                if (mount.isBind()) {
                    mounted.addAll(filesUnder(mount.source()));
                }
            }
        });

        List<String> files = mounted.stream().distinct().toList();
        assertThat(files).contains("monitor/logstash/pipeline/proxy-manager.conf",
                "monitor/kibana/proxy-manager-dashboard.ndjson");
        assertThat(eol(files)).allSatisfy((file, eol) -> assertThat(eol).as(file).isEqualTo("lf"));
    }

    @Test
    void noScriptInTheWorkingTreeHasACarriageReturn() throws IOException {
        for (String script : List.of("mvnw", ".ci/run", "monitor/setup/setup.sh", "server/Dockerfile")) {
            assertThat(Files.readString(RepositoryFiles.resolve(script))).as(script).doesNotContain("\r");
        }
    }

    private static List<String> filesUnder(String source) {
        Path root = RepositoryFiles.root();
        Path path = RepositoryFiles.resolve(source).normalize();
        try (Stream<Path> files = Files.isDirectory(path) ? Files.walk(path) : Stream.of(path)) {
            return files.filter(Files::isRegularFile).map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** File → the {@code eol} attribute git gives it ({@code lf}, {@code crlf} or {@code unspecified}). */
    private static Map<String, String> eol(List<String> files) throws Exception {
        List<String> command = new ArrayList<>(List.of("check-attr", "eol", "--"));
        command.addAll(files);
        Map<String, String> eol = new LinkedHashMap<>();
        for (String line : git(command.toArray(String[]::new)).split("\n")) {
            // "path: eol: lf"
            int attribute = line.lastIndexOf(": eol: ");
            eol.put(line.substring(0, attribute), line.substring(attribute + ": eol: ".length()));
        }
        assertThat(eol).hasSameSizeAs(files);
        return eol;
    }

    private static String git(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-C", RepositoryFiles.root().toString()));
        command.addAll(List.of(arguments));
        Process git = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(git.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(git.exitValue()).as("%s: %s", command, output).isZero();
        return output.strip();
    }
}
