package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ComposeFileTest {

    private final Compose compose = Compose.read();

    @Test
    void composeRunsTheElasticStackRedisSetupAndTheServer() {
        assertThat(compose.root().path("services").properties()).extracting(Map.Entry::getKey)
                .containsExactlyInAnyOrder("elasticsearch", "kibana", "logstash", "setup", "kibana-setup", "redis",
                        "server");
    }

    @Test
    void elasticsearchLogstashAndKibanaRunVersion9Point5() {
        Map<String, String> images = Map.of(
                "elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:",
                "logstash", "docker.elastic.co/logstash/logstash:",
                "kibana", "docker.elastic.co/kibana/kibana:");

        images.forEach((service, repository) -> {
            String image = compose.interpolate(compose.service(service).path("image").asText());
            assertThat(image).startsWith(repository);
            assertThat(image.substring(repository.length())).as(service).matches("9\\.5\\.\\d+");
        });
    }

    @Test
    void serverIsBuiltFromItsDockerfileAndPointedAtLogstashElasticsearchAndRedis() {
        JsonNode build = compose.service("server").path("build");
        assertThat(Files.isRegularFile(RepositoryFiles.resolve(build.path("context").asText())
                .resolve(build.path("dockerfile").asText()))).isTrue();
        assertThat(build.path("dockerfile").asText()).isEqualTo("server/Dockerfile");

        Map<String, String> env = compose.environment("server");
        assertThat(env.get("LOGSTASH_HOST")).isEqualTo("logstash");
        assertThat(URI.create(env.get("ELASTICSEARCH_URL")).getHost()).isEqualTo("elasticsearch");
        assertThat(URI.create(env.get("ELASTICSEARCH_URL")).getPort()).isEqualTo(9200);
        assertThat(URI.create(env.get("REDIS_URL")).getHost()).isEqualTo("redis");
        assertThat(env.get("ELASTICSEARCH_PASSWORD")).isEqualTo(compose.env().get("ELASTIC_PASSWORD"));
        assertThat(env.get("JAVA_OPTS")).contains("-XX:MaxRAMPercentage=");
    }

    @Test
    void logstashPublishesThePipelinesTcpPortWhichTheServerSendsTo() {
        int pipelinePort = Integer.parseInt(LogstashPipelineTest.pipeline()
                .plugins("input", "tcp").getFirst().string("port"));

        assertThat(compose.ports("logstash")).containsKey(pipelinePort);
        assertThat(Integer.parseInt(compose.environment("server").get("LOGSTASH_PORT"))).isEqualTo(pipelinePort);
    }

    @Test
    void everyLongRunningServiceHasAHealthcheck() {
        for (String service : List.of("elasticsearch", "kibana", "logstash", "redis", "server")) {
            JsonNode test = compose.service(service).path("healthcheck").path("test");
            assertThat(test.isArray() && test.size() > 1).as("healthcheck of %s", service).isTrue();
            assertThat(test.get(0).asText()).isIn("CMD", "CMD-SHELL");
        }
    }

    @Test
    void dependsOnConditionsStartTheServicesInOrder() {
        Map<String, Map<String, String>> dependencies = dependencies();

        assertThat(dependencies.get("kibana")).containsEntry("elasticsearch", "service_healthy");
        assertThat(dependencies.get("setup")).containsOnly(Map.entry("elasticsearch", "service_healthy"));
        assertThat(dependencies.get("kibana-setup")).containsEntry("setup", "service_completed_successfully")
                .containsEntry("kibana", "service_started");
        assertThat(dependencies.get("logstash")).containsEntry("elasticsearch", "service_healthy")
                .containsEntry("setup", "service_completed_successfully");
        assertThat(dependencies.get("server")).containsEntry("setup", "service_completed_successfully")
                .containsEntry("logstash", "service_healthy")
                .containsEntry("redis", "service_healthy");
        dependencies.forEach((service, on) -> on.forEach((dependency, condition) -> {
            if (condition.equals("service_healthy")) {
                assertThat(compose.service(dependency).has("healthcheck"))
                        .as("%s waits for %s to be healthy", service, dependency).isTrue();
            }
            if (condition.equals("service_completed_successfully")) {
                assertThat(compose.service(dependency).path("restart").asText()).isEqualTo("no");
            }
        }));
    }

    @Test
    void kibanaAndItsImportAreOffThePathOfElasticsearchLogstashAndTheServer() {
        Map<String, Map<String, String>> dependencies = dependencies();

        for (String service : List.of("elasticsearch", "setup", "logstash", "redis", "server")) {
            assertThat(upstreamOf(service, dependencies)).as("what %s waits for", service)
                    .doesNotContain("kibana", "kibana-setup");
        }
    }

    private static Set<String> upstreamOf(String service, Map<String, Map<String, String>> dependencies) {
        Set<String> upstream = new HashSet<>();
        for (String dependency : dependencies.getOrDefault(service, Map.of()).keySet()) {
            if (upstream.add(dependency)) {
                upstream.addAll(upstreamOf(dependency, dependencies));
            }
        }
        return upstream;
    }

    @Test
    void serverLogsJsonLinesUnderCompose() {
        assertThat(compose.environment("server")).containsEntry("LOG_FORMAT", "json");
    }

    @Test
    void dependenciesHaveNoCycle() {
        Map<String, Map<String, String>> dependencies = dependencies();
        Set<String> started = new HashSet<>();
        List<String> order = new ArrayList<>();
        while (started.size() < dependencies.size()) {
            List<String> ready = dependencies.entrySet().stream()
                    .filter(e -> !started.contains(e.getKey()) && started.containsAll(e.getValue().keySet()))
                    .map(Map.Entry::getKey).sorted().toList();
            assertThat(ready).as("services that can start after %s", order).isNotEmpty();
            started.addAll(ready);
            order.addAll(ready);
        }
        assertThat(order.getFirst()).isIn("elasticsearch", "redis");
        assertThat(order).containsSubsequence("elasticsearch", "setup", "logstash", "server");
    }

    @Test
    void everyBindMountAndSecretPointsAtAFileThatExists() {
        List<String> checked = new ArrayList<>();
        compose.root().path("services").properties().forEach(service -> {
            for (Compose.Mount mount : compose.mounts(service.getKey())) {
                if (mount.isBind()) {
                    assertThat(RepositoryFiles.resolve(mount.source()))
                            .as("%s mounts %s", service.getKey(), mount.source()).exists();
                    checked.add(mount.source());
                }
            }
        });
        compose.root().path("secrets").properties().forEach(secret -> {
            String file = compose.interpolate(secret.getValue().path("file").asText());
            assertThat(RepositoryFiles.resolve(file)).as("secret %s", secret.getKey()).isRegularFile();
            checked.add(file);
        });
        assertThat(checked).hasSizeGreaterThanOrEqualTo(9);
    }

    @Test
    void securityIsOnWithTheDevPasswordFromDotEnv() {
        Map<String, String> elasticsearch = compose.rawEnvironment("elasticsearch");
        assertThat(elasticsearch).containsEntry("xpack.security.enabled", "true")
                .containsEntry("ELASTIC_PASSWORD", "${ELASTIC_PASSWORD}");
        assertThat(compose.rawEnvironment("kibana")).containsEntry("ELASTICSEARCH_USERNAME", "kibana_system")
                .containsEntry("ELASTICSEARCH_PASSWORD", "${KIBANA_PASSWORD}");
        assertThat(compose.env()).containsKeys("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "PROXY_MANAGER_ADMIN_TOKEN");
        assertThat(RepositoryFiles.read(".env")).contains("DEV ONLY");
    }

    @Test
    void noPasswordOrTokenIsWrittenInClearInTheComposeFile() {
        compose.root().path("services").properties().forEach(service ->
                compose.rawEnvironment(service.getKey()).forEach((name, value) -> {
                    if (name.contains("PASSWORD") || name.contains("TOKEN")) {
                        assertThat(value).as("%s %s", service.getKey(), name).matches("\\$\\{[A-Z_]+}");
                    }
                }));
    }

    @Test
    void logstashAndTheSetupJobGetTheCredentialsThePipelineAndScriptRead() {
        Map<String, String> logstash = compose.environment("logstash");
        assertThat(logstash).containsKeys("ELASTICSEARCH_URL", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD");
        assertThat(logstash.get("ELASTICSEARCH_PASSWORD")).isEqualTo(compose.env().get("ELASTIC_PASSWORD"));
        assertThat(URI.create(logstash.get("ELASTICSEARCH_URL")).getHost()).isEqualTo("elasticsearch");
        Map<String, String> setup = compose.environment("setup");
        assertThat(setup).containsKeys("ELASTICSEARCH_URL", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD",
                "KIBANA_PASSWORD");
        assertThat(setup.get("KIBANA_PASSWORD")).isEqualTo(compose.environment("kibana").get("ELASTICSEARCH_PASSWORD"));
        Map<String, String> kibanaSetup = compose.environment("kibana-setup");
        assertThat(kibanaSetup).containsKeys("ELASTICSEARCH_URL", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD");
        assertThat(URI.create(kibanaSetup.get("KIBANA_URL")).getHost()).isEqualTo("kibana");
    }

    @Test
    void serverConfigUnderComposeUsesTheSharedRedisAndThePublishedPort() throws Exception {
        Compose.Mount config = compose.mounts("server").stream()
                .filter(m -> m.target().equals("/etc/proxy-manager/server.yaml")).findFirst().orElseThrow();
        JsonNode server = new ObjectMapper(new YAMLFactory()).readTree(RepositoryFiles.read(config.source()));
        assertThat(compose.service("server").path("command").toString())
                .as("the image's default is the embedded demo: compose names its config")
                .isEqualTo("[\"--config\",\"" + config.target() + "\"]");

        assertThat(compose.ports("server")).containsKey(server.path("port").asInt());
        assertThat(server.path("usage_store").path("type").asText()).isEqualTo("redis");
        assertThat(server.path("usage_store").path("uri").asText()).isEqualTo(compose.environment("server").get("REDIS_URL"));
        JsonNode secret = compose.service("server").path("secrets").get(0);
        assertThat(secret.path("target").asText()).isEqualTo(server.path("secrets_file").asText());
        assertThat(compose.root().path("secrets").has(secret.path("source").asText())).isTrue();
    }

    @Test
    void serverRunsAsTheImageUserUnlessToldToRunAsTheSecretsFileOwner() {
        assertThat(compose.service("server").path("user").asText()).isEqualTo("${PROXY_MANAGER_USER:-10001:10001}");
        assertThat(compose.interpolate(compose.service("server").path("user").asText())).isEqualTo("10001:10001");
        assertThat(RepositoryFiles.read("server/Dockerfile")).contains("USER 10001:10001");
        assertThat(RepositoryFiles.read("docs/deploy.md")).contains("PROXY_MANAGER_USER");
    }

    @Test
    void serverGetsMoreThanItsThirtySecondDrainToStop() {
        String grace = compose.service("server").path("stop_grace_period").asText();
        assertThat(grace).matches("\\d+s");
        assertThat(Integer.parseInt(grace.replace("s", ""))).isGreaterThan(30);
    }

    private Map<String, Map<String, String>> dependencies() {
        Map<String, Map<String, String>> dependencies = new HashMap<>();
        compose.root().path("services").properties().forEach(service -> {
            Map<String, String> on = new HashMap<>();
            JsonNode dependsOn = service.getValue().path("depends_on");
            assertThat(dependsOn.isArray()).as("%s: depends_on with conditions, not a list", service.getKey()).isFalse();
            dependsOn.properties().forEach(d -> {
                String condition = d.getValue().path("condition").asText();
                assertThat(condition).as("%s depends on %s", service.getKey(), d.getKey())
                        .isIn("service_started", "service_healthy", "service_completed_successfully");
                on.put(d.getKey(), condition);
            });
            dependencies.put(service.getKey(), on);
        });
        return dependencies;
    }
}
