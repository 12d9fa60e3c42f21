package dev.proxymanager.server.proxy;

import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ForwardProxySettingsLoaderTest {

    @TempDir
    Path dir;

    @Test
    void proxyKeysOfServerYamlBuildTheSettingsAndTheServerLoaderAcceptsThem() throws Exception {
        Files.writeString(dir.resolve("proxy-token"), "file-token-0123456789\n");
        Path yaml = Files.writeString(dir.resolve("server.yaml"), """
                port: 8080
                proxy_port: 8888
                proxy_token_file: proxy-token
                proxy_trusted_clients: [10.0.0.0/8]
                proxy_default_endpoint: pool
                proxy_session_ttl: 5m
                """);
        ForwardProxySettings s = ForwardProxySettingsLoader.load(yaml, Map.of(), null);
        assertThat(s.port()).isEqualTo(8888);
        assertThat(s.token()).isEqualTo("file-token-0123456789");
        assertThat(s.trustedClients()).hasToString("[10.0.0.0/8]");
        assertThat(s.defaultEndpoint()).isEqualTo("pool");
        assertThat(s.sessionTtl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.toString()).doesNotContain("file-token-0123456789");
        assertThat(ServerConfigLoader.load(yaml, Map.of(), Map.of()).port()).isEqualTo(8080);
    }

    @Test
    void offUnlessAPortIsSetAndCommandLinePortWins() throws Exception {
        assertThat(ForwardProxySettingsLoader.load(null, Map.of(), null)).isNull();
        ForwardProxySettings s = ForwardProxySettingsLoader.load(null,
                Map.of("PROXY_MANAGER_PROXY_TOKEN", "env-token-0123456789"), "9999");
        assertThat(s.port()).isEqualTo(9999);
        assertThat(s.token()).isEqualTo("env-token-0123456789");
    }

    @Test
    void errorsNameTheSettingAndAllowedTargetsPointToSecretsJson() throws Exception {
        assertThatThrownBy(() -> ForwardProxySettingsLoader.load(null, Map.of(), "8888"))
                .isInstanceOf(ServerConfigException.class).hasMessageContaining("proxy_port")
                .hasMessageContaining("proxy token");
        Path badCidr = Files.writeString(dir.resolve("a.yaml"), "proxy_port: 1\nproxy_trusted_clients: [nope]\n"
                + "proxy_default_endpoint: pool\n");
        assertThatThrownBy(() -> ForwardProxySettingsLoader.load(badCidr, Map.of(), null))
                .isInstanceOf(ServerConfigException.class).hasMessageContaining("proxy_trusted_clients[0]");
        Path badTarget = Files.writeString(dir.resolve("b.yaml"), "proxy_port: 1\nproxy_allowed_targets:\n  pool: ['a*b']\n");
        assertThatThrownBy(() -> ForwardProxySettingsLoader.load(badTarget,
                Map.of("PROXY_MANAGER_PROXY_TOKEN", "env-token-0123456789"), null))
                .isInstanceOf(ServerConfigException.class).hasMessageContaining("proxy_allowed_targets")
                .hasMessageContaining("endpoints.<name>.allowed_targets");
    }
}
