package dev.proxymanager.monitor.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code docker-compose.yml} against the Compose schema of docker-compose 1.29.2, the Compose v1 that Debian 12 and
 * Ubuntu 22.04 install (see {@code src/test/resources/compose/README.md}): what it accepts, Compose v2 accepts too.
 */
class ComposeSchemaTest {

    static final String SCHEMA = "/compose/compose-spec-docker-compose-1.29.2.json";

    private static JsonSchema schema() throws IOException {
        try (InputStream in = ComposeSchemaTest.class.getResourceAsStream(SCHEMA)) {
            assertThat(in).as(SCHEMA).isNotNull();
            ObjectNode schema = (ObjectNode) new ObjectMapper().readTree(in);
            removeDraft4Ids(schema);
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909).getSchema(schema);
        }
    }

    /** Compose's file keeps draft-04 {@code "id"}s beside its 2019-09 {@code $schema}; the validator knows only $id. */
    private static void removeDraft4Ids(JsonNode schema) {
        if (schema instanceof ObjectNode object) {
            if (object.path("id").isTextual()) {
                object.remove("id");
            }
            object.properties().forEach(entry -> {
                if (entry.getKey().equals("properties") || entry.getKey().equals("patternProperties")) {
                    entry.getValue().forEach(ComposeSchemaTest::removeDraft4Ids);
                } else {
                    removeDraft4Ids(entry.getValue());
                }
            });
        } else if (schema.isArray()) {
            schema.forEach(ComposeSchemaTest::removeDraft4Ids);
        }
    }

    @Test
    void composeFileIsValidForComposeV1AndV2() throws IOException {
        Set<ValidationMessage> errors = schema().validate(Compose.read().root());

        assertThat(errors).as("docker-compose.yml against %s", SCHEMA).isEmpty();
    }

    @Test
    void schemaRejectsATopLevelNameWhichComposeV1DoesNotKnow() throws IOException {
        ObjectNode named = Compose.read().root().deepCopy();
        named.put("name", "proxy-manager");

        assertThat(schema().validate(named)).extracting(ValidationMessage::getMessage)
                .anySatisfy(message -> assertThat(message).contains("name"));
    }

    @Test
    void schemaRejectsAMisspeltServiceSetting() throws IOException {
        ObjectNode misspelt = Compose.read().root().deepCopy();
        ((ObjectNode) misspelt.path("services").path("server")).set("healthchek",
                misspelt.path("services").path("server").path("healthcheck"));

        assertThat(schema().validate(misspelt)).extracting(ValidationMessage::getMessage)
                .anySatisfy(message -> assertThat(message).contains("healthchek"));
    }

    /** Where Compose v1 is installed (Debian's docker-compose; not on CI's machine), it parses the file itself. */
    @Test
    void composeV1ParsesTheFileWhereInstalled() throws Exception {
        boolean installed = false;
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            installed |= Files.isExecutable(Path.of(directory, "docker-compose"));
        }
        assumeTrue(installed, "docker-compose (v1) is not installed");
        Process compose = new ProcessBuilder("docker-compose", "-f", "docker-compose.yml", "config", "-q")
                .directory(RepositoryFiles.root().toFile()).redirectErrorStream(true).start();
        String output = new String(compose.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(compose.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(compose.exitValue()).as(output).isZero();
    }

    @Test
    void projectNameComesFromDotEnvWhichBothComposeVersionsRead() {
        JsonNode root = Compose.read().root();

        assertThat(root.has("name")).isFalse();
        assertThat(Compose.readEnv()).containsEntry("COMPOSE_PROJECT_NAME", "proxy-manager");
    }
}
