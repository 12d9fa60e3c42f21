package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KubernetesManifestsTest {

    /** Fixed by the server: its port, probe paths, config path and SIGTERM drain. */
    private static final int SERVER_PORT = 8080;
    private static final String CONFIG_FILE = "/etc/proxy-manager/server.yaml";
    private static final String SECRETS_FILE = "/etc/proxy-manager/secrets.json";
    private static final int DRAIN_SECONDS = 30;

    private static List<HasMetadata> resources;

    @BeforeAll
    static void readManifests() {
        resources = Kustomization.read().render();
    }

    @Test
    void everyManifestParsesStrictlyAndShipsEachPiece() {
        assertThat(resources).extracting(r -> r.getKind() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrder(
                        "ConfigMap/proxy-manager-config",
                        "Deployment/proxy-manager",
                        "HorizontalPodAutoscaler/proxy-manager",
                        "PodDisruptionBudget/proxy-manager",
                        "Deployment/redis",
                        "Service/redis",
                        "Secret/proxy-manager-secrets",
                        "Service/proxy-manager");
    }

    @Test
    void strictReaderRejectsAFieldTheModelDoesNotKnow() {
        String misspelt = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: typo
                spec:
                  selector:
                    matchLabels: {app: typo}
                  template:
                    metadata:
                      labels: {app: typo}
                    spec:
                      containers:
                        - name: c
                          image: i
                          readinesProbe:
                            httpGet: {path: /ready, port: 8080}
                """;

        assertThatThrownBy(() -> new StrictKubernetesReader().read(misspelt, "typo.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("readinesProbe");
    }

    @Test
    void hpaTargetsTheServerDeploymentOnCpuFiftyPercentFromOneToTen() {
        HorizontalPodAutoscaler hpa = only(HorizontalPodAutoscaler.class);

        var target = hpa.getSpec().getScaleTargetRef();
        assertThat(target.getApiVersion()).isEqualTo("apps/v1");
        assertThat(target.getKind()).isEqualTo("Deployment");
        assertThat(deployment(target.getName())).isSameAs(serverDeployment());
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(1);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(10);
        assertThat(hpa.getSpec().getMetrics()).singleElement().satisfies((MetricSpec metric) -> {
            assertThat(metric.getType()).isEqualTo("Resource");
            assertThat(metric.getResource().getName()).isEqualTo("cpu");
            assertThat(metric.getResource().getTarget().getType()).isEqualTo("Utilization");
            assertThat(metric.getResource().getTarget().getAverageUtilization()).isEqualTo(50);
        });
    }

    @Test
    void hpaOwnsTheReplicaCountAndHasACpuRequestToMeasureAgainst() {
        Deployment server = serverDeployment();

        assertThat(server.getSpec().getReplicas()).as("replicas set in the Deployment fight the HPA").isNull();
        assertThat(serverContainer().getResources().getRequests()).containsKey("cpu");
    }

    @Test
    void probesUseTheServersReadyAndHealthPathsOnItsPort() {
        Container server = serverContainer();

        HTTPGetAction readiness = server.getReadinessProbe().getHttpGet();
        HTTPGetAction liveness = server.getLivenessProbe().getHttpGet();
        assertThat(readiness.getPath()).isEqualTo("/ready");
        assertThat(liveness.getPath()).isEqualTo("/health");
        assertThat(containerPort(server, readiness.getPort())).isEqualTo(SERVER_PORT);
        assertThat(containerPort(server, liveness.getPort())).isEqualTo(SERVER_PORT);
        if (server.getStartupProbe() != null) {
            assertThat(server.getStartupProbe().getHttpGet().getPath()).isEqualTo("/health");
            assertThat(containerPort(server, server.getStartupProbe().getHttpGet().getPort())).isEqualTo(SERVER_PORT);
        }
    }

    @Test
    void everyServiceSelectsThePodsOfADeploymentAndTargetsAContainerPort() {
        for (Service service : all(Service.class)) {
            Map<String, String> selector = service.getSpec().getSelector();
            List<Deployment> selected = all(Deployment.class).stream()
                    .filter(d -> d.getSpec().getTemplate().getMetadata().getLabels().entrySet()
                            .containsAll(selector.entrySet()))
                    .toList();
            assertThat(selected).as("Deployments selected by Service %s", service.getMetadata().getName())
                    .singleElement();
            Deployment deployment = selected.getFirst();
            assertThat(deployment.getSpec().getSelector().getMatchLabels().entrySet())
                    .as("the Deployment's own selector matches its pod labels")
                    .isSubsetOf(deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet());
            Container container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
            service.getSpec().getPorts().forEach(port -> assertThat(containerPort(container, port.getTargetPort()))
                    .as("Service %s port %s", service.getMetadata().getName(), port.getName())
                    .isPositive());
        }
        Service server = named(Service.class, "proxy-manager");
        assertThat(containerPort(serverContainer(), server.getSpec().getPorts().getFirst().getTargetPort()))
                .isEqualTo(SERVER_PORT);
    }

    @Test
    void disruptionBudgetCoversTheServerPodsAndStillAllowsADrainAtOneReplica() {
        PodDisruptionBudget pdb = only(PodDisruptionBudget.class);

        assertThat(serverDeployment().getSpec().getTemplate().getMetadata().getLabels().entrySet())
                .containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet());
        assertThat(pdb.getSpec().getMinAvailable()).as("minAvailable 1 blocks every drain at one replica").isNull();
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    }

    @Test
    void configAndSecretVolumesNameShippedObjectsAndKeys() {
        for (Deployment deployment : all(Deployment.class)) {
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Set<String> volumeNames = new HashSet<>();
            for (Volume volume : pod.getVolumes()) {
                volumeNames.add(volume.getName());
                for (VolumeProjection source : sources(volume)) {
                    if (source.getConfigMap() != null) {
                        ConfigMap map = named(ConfigMap.class, source.getConfigMap().getName());
                        source.getConfigMap().getItems().forEach(item -> assertThat(map.getData()).containsKey(item.getKey()));
                    }
                    if (source.getSecret() != null) {
                        Secret secret = named(Secret.class, source.getSecret().getName());
                        source.getSecret().getItems().forEach(item -> assertThat(secretKeys(secret)).contains(item.getKey()));
                    }
                }
            }
            for (Container container : pod.getContainers()) {
                assertThat(container.getVolumeMounts()).extracting(VolumeMount::getName)
                        .as("volume mounts of %s", container.getName())
                        .allSatisfy(name -> assertThat(volumeNames).contains(name));
            }
        }
    }

    @Test
    void serverFindsItsConfigAndSecretsFilesWhereTheMountsPutThem() {
        Container server = serverContainer();
        Map<String, String> files = mountedFiles(serverDeployment().getSpec().getTemplate().getSpec(), server);

        assertThat(files).containsEntry(CONFIG_FILE, "ConfigMap proxy-manager-config/server.yaml");
        assertThat(files).containsEntry(SECRETS_FILE, "Secret proxy-manager-secrets/secrets.json");
        assertThat(server.getArgs()).containsSequence("--config", CONFIG_FILE);
    }

    @Test
    void serverConfigMatchesThePortTheSecretsMountAndTheSharedRedis() throws Exception {
        JsonNode config = new ObjectMapper(new YAMLFactory())
                .readTree(named(ConfigMap.class, "proxy-manager-config").getData().get("server.yaml"));

        assertThat(config.path("port").asInt()).isEqualTo(SERVER_PORT);
        assertThat(config.path("secrets_file").asText()).isEqualTo(SECRETS_FILE);
        assertThat(config.has("elasticsearch_url")).isTrue();
        for (String key : List.of("max_concurrent_requests", "max_queue_size", "read_timeout", "connect_timeout",
                "circuit_breaker_threshold")) {
            assertThat(config.has(key)).as(key).isTrue();
        }
        assertThat(config.path("usage_store").path("type").asText()).isEqualTo("redis");
        URI redis = URI.create(config.path("usage_store").path("uri").asText());
        Service redisService = named(Service.class, redis.getHost());
        assertThat(redisService.getSpec().getPorts()).extracting(p -> p.getPort()).contains(redis.getPort());
        assertThat(env(serverContainer())).containsEntry("REDIS_URL", redis.toString());
    }

    @Test
    void placeholderSecretsFileIsValidJsonWithAnEndpointAndTheSharedRedis() throws Exception {
        JsonNode secrets = new ObjectMapper()
                .readTree(named(Secret.class, "proxy-manager-secrets").getStringData().get("secrets.json"));

        assertThat(secrets.path("endpoints").size()).as("the server needs at least one endpoint").isPositive();
        assertThat(secrets.path("usage_store").path("type").asText()).isEqualTo("redis");
        assertThat(secrets.path("usage_store").path("uri").asText()).isEqualTo("${REDIS_URL}");
        assertThat(env(serverContainer())).containsKey("REDIS_URL");
        assertThat(secrets).isEqualTo(new ObjectMapper()
                .readTree(RepositoryFiles.read("monitor/compose/secrets.example.json")));
    }

    @Test
    void podsRunAsNonRootOnAReadOnlyRootFilesystem() {
        for (Deployment deployment : all(Deployment.class)) {
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
            for (Container container : pod.getContainers()) {
                var security = container.getSecurityContext();
                assertThat(security.getReadOnlyRootFilesystem()).as(container.getName()).isTrue();
                assertThat(security.getAllowPrivilegeEscalation()).as(container.getName()).isFalse();
                assertThat(security.getCapabilities().getDrop()).as(container.getName()).contains("ALL");
            }
        }
    }

    @Test
    void serverGetsAWritableTmpFromAnEmptyDir() {
        PodSpec pod = serverDeployment().getSpec().getTemplate().getSpec();
        VolumeMount tmp = serverContainer().getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow();

        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst().orElseThrow();
        assertThat(volume.getEmptyDir()).isNotNull();
        assertThat(tmp.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    }

    @Test
    void everyContainerHasCpuAndMemoryRequestsAndLimits() {
        for (Deployment deployment : all(Deployment.class)) {
            for (Container container : deployment.getSpec().getTemplate().getSpec().getContainers()) {
                var resources = container.getResources();
                assertThat(resources.getRequests()).as(container.getName()).containsKeys("cpu", "memory");
                assertThat(resources.getLimits()).as(container.getName()).containsKeys("cpu", "memory");
                for (String resource : List.of("cpu", "memory")) {
                    assertThat(Quantity.getAmountInBytes(resources.getRequests().get(resource)))
                            .as("%s %s request <= limit", container.getName(), resource)
                            .isLessThanOrEqualTo(Quantity.getAmountInBytes(resources.getLimits().get(resource)));
                }
            }
        }
    }

    @Test
    void terminationGracePeriodOutlastsTheServersThirtySecondDrain() {
        assertThat(serverDeployment().getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .isGreaterThan(DRAIN_SECONDS);
    }

    @Test
    void jvmIsSizedByTheContainerMemoryLimit() {
        assertThat(env(serverContainer()).get("JAVA_OPTS")).contains("-XX:MaxRAMPercentage=");
    }

    private static Deployment serverDeployment() {
        return deployment("proxy-manager");
    }

    private static Container serverContainer() {
        return serverDeployment().getSpec().getTemplate().getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("server")).findFirst().orElseThrow();
    }

    private static Deployment deployment(String name) {
        return named(Deployment.class, name);
    }

    private static <T extends HasMetadata> T named(Class<T> type, String name) {
        return all(type).stream().filter(r -> r.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name + " in server/k8s/"));
    }

    private static <T extends HasMetadata> T only(Class<T> type) {
        List<T> matching = all(type);
        assertThat(matching).as(type.getSimpleName()).hasSize(1);
        return matching.getFirst();
    }

    private static <T extends HasMetadata> List<T> all(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The port number a probe or Service port refers to, by number or by the container port's name; -1 if none. */
    private static int containerPort(Container container, IntOrString port) {
        for (ContainerPort declared : container.getPorts()) {
            if (port.getIntVal() != null ? port.getIntVal().equals(declared.getContainerPort())
                    : port.getStrVal().equals(declared.getName())) {
                return declared.getContainerPort();
            }
        }
        return -1;
    }

    private static List<VolumeProjection> sources(Volume volume) {
        List<VolumeProjection> sources = new ArrayList<>();
        if (volume.getProjected() != null) {
            sources.addAll(volume.getProjected().getSources());
        }
        if (volume.getConfigMap() != null) {
            var projection = new VolumeProjection();
            projection.setConfigMap(new io.fabric8.kubernetes.api.model.ConfigMapProjection(
                    volume.getConfigMap().getItems(), volume.getConfigMap().getName(), volume.getConfigMap().getOptional()));
            sources.add(projection);
        }
        if (volume.getSecret() != null) {
            var projection = new VolumeProjection();
            projection.setSecret(new io.fabric8.kubernetes.api.model.SecretProjection(
                    volume.getSecret().getItems(), volume.getSecret().getSecretName(), volume.getSecret().getOptional()));
            sources.add(projection);
        }
        return sources;
    }

    /** Absolute file path in the container → "Kind name/key" of the ConfigMap or Secret entry mounted there. */
    private static Map<String, String> mountedFiles(PodSpec pod, Container container) {
        Map<String, String> files = new HashMap<>();
        for (VolumeMount mount : container.getVolumeMounts()) {
            Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName()))
                    .findFirst().orElseThrow();
            for (VolumeProjection source : sources(volume)) {
                if (source.getConfigMap() != null) {
                    for (KeyToPath item : source.getConfigMap().getItems()) {
                        files.put(mount.getMountPath() + "/" + item.getPath(),
                                "ConfigMap " + source.getConfigMap().getName() + "/" + item.getKey());
                    }
                }
                if (source.getSecret() != null) {
                    for (KeyToPath item : source.getSecret().getItems()) {
                        files.put(mount.getMountPath() + "/" + item.getPath(),
                                "Secret " + source.getSecret().getName() + "/" + item.getKey());
                    }
                }
            }
        }
        return files;
    }

    private static Set<String> secretKeys(Secret secret) {
        Set<String> keys = new HashSet<>();
        if (secret.getData() != null) {
            keys.addAll(secret.getData().keySet());
        }
        if (secret.getStringData() != null) {
            keys.addAll(secret.getStringData().keySet());
        }
        return keys;
    }

    @Test
    void serverLogsJsonLinesForTheClustersLogCollection() {
        assertThat(env(serverContainer())).containsEntry("LOG_FORMAT", "json");
        assertThat(env(serverContainer()).get("LOG_FORMAT")).isEqualTo(Compose.read().environment("server").get("LOG_FORMAT"));
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> values = new HashMap<>();
        container.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> values.put(e.getName(), e.getValue()));
        return values;
    }
}
