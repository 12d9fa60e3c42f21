package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerfileTest {

    /** One instruction of server/Dockerfile, continuation lines joined. */
    record Instruction(String keyword, String arguments) {
    }

    /** A build stage: its FROM line and the instructions after it. */
    record Stage(String from, List<Instruction> instructions) {
        List<String> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
        }

        String last(String keyword) {
            List<String> all = all(keyword);
            return all.isEmpty() ? null : all.getLast();
        }
    }

    private final List<Stage> stages = parse(RepositoryFiles.read("server/Dockerfile"));

    @Test
    void buildsWithTheMavenWrapperInAJdk21Image() {
        Stage build = stages.getFirst();

        assertThat(build.from()).matches("eclipse-temurin:21-jdk\\S* AS build");
        assertThat(build.all("RUN")).anySatisfy(run -> assertThat(run).contains("./mvnw").contains("-pl server")
                .contains("package"));
        for (String copy : build.all("COPY")) {
            String[] paths = copy.split("\\s+");
            for (int i = 0; i < paths.length - 1; i++) {
                assertThat(RepositoryFiles.resolve(paths[i])).as("COPY source %s", paths[i]).exists();
            }
        }
    }

    @Test
    void runsTheShadedServerJarOnAJre21ImageAsANonRootUser() {
        Stage run = stages.getLast();

        assertThat(stages).hasSize(2);
        assertThat(run.from()).matches("eclipse-temurin:21-jre\\S*");
        assertThat(run.all("COPY")).contains(
                "--from=build /src/server/target/proxy-manager-server.jar /app/proxy-manager-server.jar");
        String user = run.last("USER");
        assertThat(user).isNotNull();
        String uid = user.split(":")[0];
        assertThat(uid).isNotIn("root", "0").matches("\\d+");
        assertThat(run.last("EXPOSE")).isEqualTo("8080");
    }

    @Test
    void jvmIsSizedByTheContainerLimitAndGetsSigtermItself() {
        Stage run = stages.getLast();

        assertThat(run.all("ENV")).anySatisfy(env -> assertThat(env).startsWith("JAVA_OPTS=")
                .contains("-XX:MaxRAMPercentage="));
        assertThat(run.last("ENTRYPOINT")).contains("exec java $JAVA_OPTS -jar /app/proxy-manager-server.jar");
        assertThat(run.last("CMD")).as("no arguments: the embedded default, as java -jar").isEqualTo("[]");
    }

    @Test
    void buildsWithTheClassicBuilderToo() {
        String dockerfile = RepositoryFiles.read("server/Dockerfile");

        assertThat(dockerfile.lines()).as("BuildKit-only parser directive").noneMatch(l -> l.matches("#\\s*syntax\\s*=.*"));
        assertThat(dockerfile).as("heredocs need BuildKit").doesNotContain("<<");
        for (Stage stage : stages) {
            assertThat(stage.all("RUN")).as("RUN flags need BuildKit")
                    .noneMatch(run -> run.matches("--(mount|network|security)\\b.*"));
            for (String copy : stage.all("COPY")) {
                assertThat(copy).as("COPY flags that need BuildKit").doesNotContainPattern("--(chmod|link|parents|exclude)\\b");
            }
        }
    }

    /**
     * Copies exactly what the build stage COPYs (as the build context would hold it, without {@code target/}) to a
     * scratch directory and runs the server module's resource processing there with the same Maven wrapper: the
     * demo {@code secrets.json} that {@code java -jar} starts with must land in the jar's classes.
     */
    @Test
    void imageJarEmbedsTheDemoSecretsFromTheFilesTheDockerfileCopies(@TempDir Path scratch) throws Exception {
        Stage build = stages.getFirst();
        for (String copy : build.all("COPY")) {
            List<String> paths = List.of(copy.split("\\s+"));
            String destination = paths.getLast();
            for (String source : paths.subList(0, paths.size() - 1)) {
                Path from = RepositoryFiles.resolve(source);
                Path to = Files.isDirectory(from) ? scratch.resolve(destination)
                        : scratch.resolve(destination).resolve(from.getFileName().toString());
                copyTree(from, to);
            }
        }

        Process maven = new ProcessBuilder(scratch.resolve("mvnw").toString(), "-B", "-q", "-o", "-pl", "server",
                "process-resources").directory(scratch.toFile()).redirectErrorStream(true).start();
        String output = new String(maven.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(maven.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(maven.exitValue()).as(output).isZero();

        Path demoSecrets = scratch.resolve("server/target/classes/dev/proxymanager/server/demo/secrets.json");
        assertThat(demoSecrets).as("the demo secrets.json in the image's jar").isRegularFile();
        assertThat(Files.readString(demoSecrets)).isEqualTo(RepositoryFiles.read("examples/secrets.json"));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path relative = from.relativize(file);
                boolean buildOutput = false;
                for (Path part : relative) {
                    buildOutput |= part.toString().equals("target"); // .dockerignore: **/target
                }
                if (buildOutput) {
                    continue;
                }
                Path target = relative.toString().isEmpty() ? to : to.resolve(relative.toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    @Test
    void buildContextLeavesOutBuildOutputAndTheDevEnvFile() {
        List<String> ignored = RepositoryFiles.read(".dockerignore").lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();

        assertThat(ignored).contains("**/target", ".git", ".env");
    }

    private static List<Stage> parse(String dockerfile) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.split("\n")) {
            String trimmed = line.strip();
            if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String text = current.toString().strip();
            int space = text.indexOf(' ');
            instructions.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
            current.setLength(0);
        }
        List<Stage> stages = new ArrayList<>();
        for (Instruction instruction : instructions) {
            if (instruction.keyword().equals("FROM")) {
                stages.add(new Stage(instruction.arguments(), new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.getLast().instructions().add(instruction);
            }
        }
        return stages;
    }
}
