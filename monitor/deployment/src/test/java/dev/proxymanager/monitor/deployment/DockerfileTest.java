package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
        assertThat(run.last("CMD")).isEqualTo("[\"--config\", \"/etc/proxy-manager/server.yaml\"]");
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
