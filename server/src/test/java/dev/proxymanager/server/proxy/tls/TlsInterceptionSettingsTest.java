package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.TargetPattern;
import dev.proxymanager.server.config.ServerConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsInterceptionSettingsTest {

    @TempDir
    Path dir;

    private static EndpointConfig proxyEndpoint(String name, boolean intercept, String... exclude) {
        return EndpointConfig.builder(name, SecretType.PROXY).withSecret("p1", "http://127.0.0.1:1")
                .withInterceptTls(intercept)
                .withInterceptExclude(java.util.Arrays.stream(exclude).map(TargetPattern::parse).toList()).build();
    }

    @Test
    void interceptionIsPerEndpointAndExcludedHostsAreNeverIntercepted() throws Exception {
        CertificateAuthority.create("unit", Instant.now(), Duration.ofDays(1)).writeTo(dir.resolve("ca"));
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}\n");
        EndpointConfig crawl = proxyEndpoint("crawl", true, "*.bank.example", "bank.example", "10.0.0.0/8");
        EndpointConfig other = proxyEndpoint("other", false);

        TlsInterceptionSettings settings = TlsInterceptionSettings.load(yaml);
        TlsInterception interception = TlsInterception.create(settings, dev.proxymanager.middleware.clock.Clock.system());

        assertThat(settings.caKey()).isEqualTo(dir.resolve("ca/proxy-manager-ca-key.pem"));
        assertThat(interception.intercepts(crawl, "shop.example")).isTrue();
        assertThat(interception.intercepts(crawl, "www.bank.example")).isFalse();
        assertThat(interception.intercepts(crawl, "BANK.example.")).isFalse();
        assertThat(interception.intercepts(crawl, "10.1.2.3")).isFalse();
        assertThat(interception.intercepts(other, "shop.example")).isFalse(); // off by default
    }

    @Test
    void serverYamlInterceptionRulesAreRefusedPointingToSecretsJson() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_tls_interception: {crawl: {intercept_tls: true}}\n");

        assertThatThrownBy(() -> TlsInterceptionSettings.load(yaml)).isInstanceOf(ServerConfigException.class)
                .hasMessageStartingWith("proxy_tls_interception: moved to secrets.json")
                .hasMessageContaining("endpoints.<name>.intercept_tls");
    }

    @Test
    void anEndpointInterceptingWithoutACaIsRefusedNamingBothSettings() {
        List<EndpointConfig> endpoints = List.of(proxyEndpoint("other", false), proxyEndpoint("crawl", true));

        assertThatThrownBy(() -> TlsInterceptionSettings.NONE.checkEndpoints(endpoints))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("endpoints.crawl.intercept_tls is true but server.yaml has no proxy_tls_ca")
                .hasMessageContaining("ca generate");
    }

    @Test
    void endpointsThatDoNotInterceptNeedNoCa() {
        TlsInterceptionSettings.NONE.checkEndpoints(List.of(proxyEndpoint("crawl", false, "*")));
    }

    @Test
    void aWorldReadableCaKeyStopsTheStartNamingTheFile() throws Exception {
        CertificateAuthority.create("unit", Instant.now(), Duration.ofDays(1)).writeTo(dir.resolve("ca"));
        Path key = dir.resolve("ca/proxy-manager-ca-key.pem");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}\n");

        assertThatThrownBy(() -> TlsInterception.create(TlsInterceptionSettings.load(yaml),
                dev.proxymanager.middleware.clock.Clock.system()))
                .hasMessageContaining(key.toString()).hasMessageContaining("readable by every user");
    }

    @Test
    void noSettingsMeansNoInterception() {
        assertThat(TlsInterception.create(TlsInterceptionSettings.NONE, dev.proxymanager.middleware.clock.Clock.system()))
                .isNull();
    }
}
