package dev.proxymanager.middleware.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretIdsTest {

    private static final String SALT = "a-salt-of-this-installation-0123";

    @TempDir
    Path dir;

    private static String endpoint(String type, String secrets) {
        return "{ \"endpoints\": { \"ep\": { \"type\": \"" + type + "\", \"base_url\": \"http://127.0.0.1:1\","
                + " \"secrets\": " + secrets + " } } }";
    }

    private static List<String> ids(SecretsConfig c) {
        return c.endpoint("ep").secrets().stream().map(SecretConfig::id).toList();
    }

    private Path write(String json) throws Exception {
        Path file = dir.resolve("secrets.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void fourShortKeysLoadWithDistinctIds() throws Exception {
        // given four keys whose masked forms are all "…"
        Path file = write(endpoint("key", "[\"b1\", \"b2\", \"b3\", \"b4\"]"));

        // when loaded
        List<String> ids = ids(SecretsConfig.load(file));

        // then each has its own id, and the masked form stays for display
        assertThat(ids).hasSize(4).doesNotHaveDuplicates().allSatisfy(id -> assertThat(id).matches("…#[0-9a-f]{12}"));
    }

    @Test
    void gatewaySessionsLoadWithFourDistinctIds() throws Exception {
        // given one provider gateway with the session in the user name: all mask to http://…@gw.example.net:22225
        Path file = write(endpoint("proxy", "[\"http://user-session-1:pw@gw.example.net:22225\","
                + " \"http://user-session-2:pw@gw.example.net:22225\", \"http://user-session-3:pw@gw.example.net:22225\","
                + " \"http://user-session-4:pw@gw.example.net:22225\"]"));

        SecretsConfig c = SecretsConfig.load(file);

        assertThat(ids(c)).hasSize(4).doesNotHaveDuplicates()
                .allSatisfy(id -> assertThat(id).matches("http://…@gw\\.example\\.net:22225#[0-9a-f]{12}"));
        assertThat(c.endpoint("ep").secrets()).extracting(SecretConfig::maskedValue)
                .containsOnly("http://…@gw.example.net:22225");
    }

    @Test
    void idsAreStableAcrossAReloadAndARestart() throws Exception {
        // given a file loaded once, which creates the salt beside it, private to its owner
        Path file = write(endpoint("key", "[\"b1\", \"b2\"]"));
        List<String> first = ids(SecretsConfig.load(file));
        Path saltFile = dir.resolve("secrets.json.id-salt");
        assertThat(saltFile).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(saltFile))).isEqualTo("rw-------");

        // when it is reloaded with a secret added in front (as SecretsReloader parses it) and loaded again (a restart)
        Files.writeString(file, endpoint("key", "[\"b0\", \"b1\", \"b2\"]"));
        List<String> reloaded = ids(SecretsConfig.parse(Files.readString(file), Map.of(), file));
        List<String> restarted = ids(SecretsConfig.load(file));

        // then the secrets that stayed keep their ids, so counts kept by id carry over
        assertThat(reloaded.subList(1, 3)).isEqualTo(first);
        assertThat(restarted).isEqualTo(reloaded);
    }

    @Test
    void anExplicitIdWins() {
        SecretsConfig c = SecretsConfig.parse(endpoint("key", "[{ \"id\": \"main\", \"value\": \"b1\" }, \"b2\"]"), Map.of());

        assertThat(ids(c).get(0)).isEqualTo("main");
        assertThat(ids(c).get(1)).startsWith("…#");
    }

    @Test
    void anIdRevealsNothingWithoutTheSalt() throws Exception {
        // given the same short key under two salts
        String json = "{ \"id_salt\": \"%s\", \"endpoints\": { \"ep\": { \"type\": \"key\", \"base_url\": \"http://127.0.0.1:1\","
                + " \"secrets\": [\"b1\"] } } }";
        String id = ids(SecretsConfig.parse(json.formatted(SALT), Map.of())).get(0);
        String other = ids(SecretsConfig.parse(json.formatted("another-salt-0123456789"), Map.of())).get(0);

        // then the id holds neither the value nor an unsalted hash of it: a guess cannot be checked offline
        String tag = id.substring(id.indexOf('#') + 1);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("b1".getBytes(StandardCharsets.UTF_8)));
        assertThat(id).isEqualTo("…#" + tag);
        assertThat(sha256).doesNotContain(tag);
        assertThat(other).isNotEqualTo(id);
    }

    @Test
    void theSaltMayComeFromTheFileOrTheEnvironmentSoReplicasAgree() throws Exception {
        // given id_salt in secrets.json, and the same salt in the environment of a process reading another copy
        String withSalt = "{ \"id_salt\": \"" + SALT + "\", \"endpoints\": { \"ep\": { \"type\": \"key\","
                + " \"base_url\": \"http://127.0.0.1:1\", \"secrets\": [\"b1\"] } } }";
        List<String> fromFile = ids(SecretsConfig.parse(withSalt, Map.of()));
        List<String> fromEnvironment = ids(SecretsConfig.parse(endpoint("key", "[\"b1\"]"),
                Map.of(SecretIds.SALT_ENVIRONMENT_VARIABLE, SALT), write("{}")));

        assertThat(fromEnvironment).isEqualTo(fromFile);
        assertThat(dir.resolve("secrets.json.id-salt")).doesNotExist();
    }

    @Test
    void aShortSaltIsRefusedWithoutRepeatingIt() {
        assertThatThrownBy(() -> SecretsConfig.parse("{ \"id_salt\": \"short-salt\", " + endpoint("key", "[\"b1\"]").substring(1),
                Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("id_salt must be at least 16 characters long, was 10 characters");
    }

    @Test
    void aSaltThatCannotBeStoredSaysHowToGiveOne() throws Exception {
        // given secrets.json said to be in a folder the salt cannot be written to (a read-only Kubernetes mount, say;
        // a missing folder stands for it, as tests may run as root, whom permissions do not stop)
        Path file = write(endpoint("key", "[\"b1\"]"));
        Path readOnly = dir.resolve("missing-folder").resolve("secrets.json");

        assertThatThrownBy(() -> SecretsConfig.parse(Files.readString(file), Map.of(), readOnly))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("need an id salt").hasMessageContaining("\"id_salt\"")
                .hasMessageContaining(SecretIds.SALT_ENVIRONMENT_VARIABLE);
    }

    @Test
    void secretsWithIdsNeedNoSalt() throws Exception {
        Path file = write(endpoint("key", "[{ \"id\": \"k1\", \"value\": \"b1\" }]"));

        SecretsConfig.load(file);

        assertThat(dir.resolve("secrets.json.id-salt")).doesNotExist();
    }

    @Test
    void theSameValueListedTwiceIsRefused() {
        assertThatThrownBy(() -> SecretsConfig.parse(endpoint("key", "[\"b1\", \"b1\"]"), Map.of()))
                .hasMessageStartingWith("endpoints.ep.secrets[1] has id …#")
                .hasMessageContaining("a value listed twice gets the same id");
    }
}
