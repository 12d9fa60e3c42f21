package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The commands docs/deploy.md shows are the ones the files support and these tests check. */
class DeployDocsTest {

    private final String docs = RepositoryFiles.read("docs/deploy.md");

    @Test
    void showsComposeV1AndV2CommandsWhichTheVendoredV1SchemaCovers() {
        assertThat(docs).contains("docker-compose up").contains("docker compose up").contains("1.29");
        assertThat(ComposeSchemaTest.SCHEMA).contains("1.29.2");
    }

    @Test
    void serviceTableNamesEveryComposeServiceAndNoOther() {
        String composeSection = docs.substring(docs.indexOf("## docker-compose"), docs.indexOf("### The dashboard"));
        Matcher rows = Pattern.compile("(?m)^\\| `([a-z-]+)` \\|").matcher(composeSection);
        List<String> documented = new ArrayList<>();
        while (rows.find()) {
            documented.add(rows.group(1));
        }
        List<String> services = new ArrayList<>();
        Compose.read().root().path("services").properties().forEach(e -> services.add(e.getKey()));

        assertThat(documented).containsExactlyInAnyOrderElementsOf(services);
    }

    @Test
    void startOrderTheDocsDescribeIsTheOneComposeEnforces() {
        assertThat(docs).contains("Elasticsearch healthy → `setup` completed →\nLogstash healthy and Redis healthy → server");
        Compose compose = Compose.read();
        assertThat(compose.service("logstash").path("depends_on").path("setup").path("condition").asText())
                .isEqualTo("service_completed_successfully");
        assertThat(compose.service("server").path("depends_on").path("logstash").path("condition").asText())
                .isEqualTo("service_healthy");
        assertThat(compose.service("server").path("depends_on").path("redis").path("condition").asText())
                .isEqualTo("service_healthy");
        assertThat(compose.service("setup").path("depends_on").path("elasticsearch").path("condition").asText())
                .isEqualTo("service_healthy");
    }

    @Test
    void appliesTheKustomizationNotTheFoldersFiles() {
        assertThat(docs).contains("kubectl apply -k " + Kustomization.DIRECTORY)
                .contains("kubectl kustomize " + Kustomization.DIRECTORY)
                .doesNotContain("kubectl apply -f server/k8s");
        assertThat(docs).contains("kind load docker-image", "minikube image load", "kustomize edit set image");
    }

    @Test
    void showsTheTestCommandOfThisModule() {
        assertThat(docs).contains("./mvnw -B -q -pl monitor/deployment -am test");
    }

    @Test
    void ownSecretsKustomizationReplacesThePlaceholderSecretUnderItsName() throws Exception {
        Matcher heredoc = Pattern.compile("<<'YAML'\\n(.*?)\\nYAML\\n", Pattern.DOTALL).matcher(docs);
        assertThat(heredoc.find()).as("the kustomization of one's own secrets in docs/deploy.md").isTrue();
        JsonNode own = new ObjectMapper(new YAMLFactory()).readTree(heredoc.group(1));
        String placeholder = Kustomization.read().manifests().stream().filter(Secret.class::isInstance)
                .map(r -> r.getMetadata().getName()).filter(n -> n.equals("proxy-manager-secrets")).findFirst()
                .orElseThrow();

        assertThat(own.path("resources").get(0).asText()).doesNotStartWith("/").endsWith(Kustomization.DIRECTORY);
        JsonNode generator = own.path("secretGenerator").get(0);
        assertThat(generator.path("name").asText()).isEqualTo(placeholder);
        assertThat(generator.path("behavior").asText()).isEqualTo("replace");
        assertThat(generator.path("files").get(0).asText()).isEqualTo("secrets.json");
        // The Deployment names the Secret as it is; a hashed name would also restart every pod on each change.
        assertThat(generator.path("options").path("disableNameSuffixHash").asBoolean()).isTrue();
    }
}
