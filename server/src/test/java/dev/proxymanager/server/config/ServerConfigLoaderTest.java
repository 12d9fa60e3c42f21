package dev.proxymanager.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void readsYamlThenEnvironmentThenFlagsEachOverridingTheLast() throws Exception {
        // given a file, an environment and command-line flags
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, """
                port: 9000
                secrets_file: secrets.json
                elasticsearch_url: http://es.internal:9200
                max_concurrent_requests: 50
                max_queue_size: 100
                pool_max_size: 300
                read_timeout: 120s
                connect_timeout: 5s
                circuit_breaker_threshold: 7
                usage_store: { type: redis, uri: "redis://cache:6379" }
                admin_token_file: token.txt
                protect_forwarding: true
                drain_timeout: 20s
                """);
        Files.writeString(dir.resolve("token.txt"), "a-very-long-admin-token-value\n");
        Map<String, String> env = Map.of("ELASTICSEARCH_URL", "http://es.env:9200");
        Map<String, String> flags = new HashMap<>();
        flags.put("port", "9100");
        flags.put("read_timeout", "60s");
        flags.put("pool_max_size", "400");

        // when loaded
        ServerConfig c = ServerConfigLoader.load(yaml, env, flags);

        // then flags beat the environment, which beats the file
        assertThat(c.port()).isEqualTo(9100);
        assertThat(c.readTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.elasticsearchUrl()).isEqualTo(URI.create("http://es.env:9200"));
        assertThat(c.secretsFile()).isEqualTo(dir.resolve("secrets.json"));
        assertThat(c.maxConcurrentRequests()).isEqualTo(50);
        assertThat(c.maxQueueSize()).isEqualTo(100);
        assertThat(c.effectivePoolMaxSize()).isEqualTo(400);
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.circuitBreakerThreshold()).isEqualTo(7);
        assertThat(c.usageStoreType()).isEqualTo("redis");
        assertThat(c.adminToken()).isEqualTo("a-very-long-admin-token-value");
        assertThat(c.protectForwarding()).isTrue();
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.toString()).doesNotContain("a-very-long-admin-token-value");
    }

    @Test
    void withoutAFileTheDefaultsRunTheDemo() {
        ServerConfig c = ServerConfigLoader.load(null, Map.of(), Map.of());

        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.demoMode()).isTrue();
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.maxConcurrentRequests()).isEqualTo(200);
        assertThat(c.effectivePoolMaxSize()).isEqualTo(400);
        assertThat(c.adminToken()).isNull();
    }

    @Test
    void badValuesStopStartUpNamingTheSetting() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "max_queue_size: -1\n");
        assertThatThrownBy(() -> ServerConfigLoader.load(yaml, Map.of(), Map.of()))
                .isInstanceOf(ServerConfigException.class).hasMessage("max_queue_size: must be >= 0, was -1");

        Files.writeString(yaml, "max_concurent_requests: 10\n");
        assertThatThrownBy(() -> ServerConfigLoader.load(yaml, Map.of(), Map.of()))
                .hasMessageStartingWith("max_concurent_requests: is not a known setting");

        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), Map.of("read_timeout", "10 minutes")))
                .hasMessage("read_timeout: must be a duration like 250ms, 90s, 15m, 1h or 1d, was \"10 minutes\"");
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), Map.of("read_timeout", "301s")))
                .hasMessage("read_timeout: must be at most 5m, was \"301s\"");
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), Map.of("pool_max_size", "0")))
                .hasMessage("pool_max_size: must be > 0, was 0");
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), Map.of("port", "eighty")))
                .hasMessage("port: must be a whole number, was 'eighty'");
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), Map.of("protect_forwarding", "true")))
                .hasMessageStartingWith("protect_forwarding: forwarding needs credentials");
    }

    @Test
    void outsideTheDemoForwardingNeedsATokenUnlessExplicitlyOpenAndTheDemoListensOnLoopbackOnly() {
        Map<String, String> secrets = Map.of("secrets_file", "secrets.json");

        // the demo: loopback, open forwarding
        ServerConfig demo = ServerConfigLoader.load(null, Map.of(), Map.of());
        assertThat(demo.host()).isEqualTo("127.0.0.1");
        assertThat(demo.protectForwarding()).isFalse();

        // a real configuration without any token does not start
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of(), secrets))
                .isInstanceOf(ServerConfigException.class).hasMessageStartingWith("protect_forwarding: ")
                .hasMessageContaining("PROXY_MANAGER_FORWARDING_TOKEN");

        // with a forwarding token it forwards for its holders, on every interface
        ServerConfig withToken = ServerConfigLoader.load(null,
                Map.of("PROXY_MANAGER_FORWARDING_TOKEN", "forwarding-token-0123456789"), secrets);
        assertThat(withToken.protectForwarding()).isTrue();
        assertThat(withToken.forwardingToken()).isEqualTo("forwarding-token-0123456789");
        assertThat(withToken.host()).isEqualTo("0.0.0.0");
        assertThat(withToken.toString()).doesNotContain("forwarding-token-0123456789");

        // open forwarding only when the configuration says so
        Map<String, String> open = new HashMap<>(secrets);
        open.put("protect_forwarding", "false");
        assertThat(ServerConfigLoader.load(null, Map.of(), open).protectForwarding()).isFalse();
    }

    @Test
    void theForwardingTokenIsLongAndNotTheAdminToken() {
        Map<String, String> secrets = Map.of("secrets_file", "secrets.json");
        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of("PROXY_MANAGER_FORWARDING_TOKEN", "short"), secrets))
                .hasMessage("forwarding_token: must be at least 16 characters long, was 5 characters");
        String same = "one-token-for-everything-0123";
        assertThatThrownBy(() -> ServerConfigLoader.load(null,
                Map.of("PROXY_MANAGER_FORWARDING_TOKEN", same, "PROXY_MANAGER_ADMIN_TOKEN", same), secrets))
                .hasMessageStartingWith("forwarding_token: must differ from the admin token");
    }

    @Test
    void redisUrlFromTheEnvironmentSelectsTheRedisStoreWithoutLeakingThePassword() {
        ServerConfig c = ServerConfigLoader.load(null, Map.of("REDIS_URL", "redis://:s3cret@redis:6379"), Map.of());
        assertThat(c.usageStoreType()).isEqualTo("redis");

        assertThatThrownBy(() -> ServerConfigLoader.load(null, Map.of("REDIS_URL", "::s3cret not a url"), Map.of()))
                .hasMessageStartingWith("usage_store.uri").hasMessageNotContaining("s3cret");
    }
}
