package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@code kubectl apply -k server/k8s}: every manifest, each image set in kustomization.yaml and nowhere else. */
class KustomizationTest {

    private static final String SERVER_IMAGE = "proxy-manager-server";

    private final Kustomization kustomization = Kustomization.read();

    @Test
    void kustomizationListsEveryManifestOfTheFolder() throws IOException {
        List<String> files;
        try (Stream<Path> list = Files.list(kustomization.directory())) {
            files = list.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".yaml") && !f.equals(Kustomization.FILE)).toList();
        }

        assertThat(kustomization.resources()).containsExactlyInAnyOrderElementsOf(files);
    }

    @Test
    void everyContainerImageIsNamedWithoutATagAndSetInTheKustomization() {
        List<Container> containers = Kustomization.containers(kustomization.manifests());

        assertThat(containers).hasSizeGreaterThanOrEqualTo(2);
        for (Container container : containers) {
            assertThat(container.getImage()).as("%s: image in the manifest", container.getName())
                    .isEqualTo(Kustomization.imageName(container.getImage()));
            assertThat(kustomization.images()).as("%s: images entry", container.getName())
                    .containsKey(container.getImage());
            assertThat(kustomization.images().get(container.getImage()).newTag())
                    .as("%s: tag set in the kustomization", container.getName()).isNotBlank();
        }
    }

    @Test
    void serverImageIsTheOneTheDocsBuildAndComposeRuns() {
        String image = kustomization.images().get(SERVER_IMAGE).reference();
        Matcher built = Pattern.compile("docker build -f server/Dockerfile -t (\\S+) \\.")
                .matcher(RepositoryFiles.read("docs/deploy.md"));

        assertThat(built.find()).as("docs/deploy.md shows the image build").isTrue();
        assertThat(built.group(1)).isEqualTo(image);
        assertThat(Compose.read().service("server").path("image").asText()).isEqualTo(image);
        assertThat(RepositoryFiles.read("server/Dockerfile")).contains("-t " + image + " .");
    }

    @Test
    void renderedServerDeploymentRunsTheKustomizationsImage() {
        List<Container> rendered = Kustomization.containers(kustomization.render());

        assertThat(rendered).extracting(Container::getImage)
                .contains(kustomization.images().get(SERVER_IMAGE).reference())
                .allSatisfy(image -> assertThat(image).contains(":"));
    }

    /** Where kubectl is installed (not on CI's machine), its kustomize must render what {@link #render} does. */
    @Test
    void kubectlKustomizeOutputParsesStrictlyAndMatchesTheRenderTheOtherTestsCheck() throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", kustomization.directory().toString())
                .redirectErrorStream(false).start();
        String output = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String errors = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kubectl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(kubectl.exitValue()).as(errors).isZero();

        List<HasMetadata> fromKubectl = new StrictKubernetesReader().read(output, "kubectl kustomize");
        List<HasMetadata> fromTests = kustomization.render();
        assertThat(fromKubectl).extracting(r -> r.getKind() + "/" + r.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(
                        fromTests.stream().map(r -> r.getKind() + "/" + r.getMetadata().getName()).toList());
        assertThat(Kustomization.containers(fromKubectl)).extracting(Container::getImage)
                .containsExactlyInAnyOrderElementsOf(
                        Kustomization.containers(fromTests).stream().map(Container::getImage).toList());
    }

    private static boolean onPath(String command) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(directory, command))) {
                return true;
            }
        }
        return false;
    }
}
