package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.server.config.ServerConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsInterceptionSettingsTest {

    @TempDir
    Path dir;

    @Test
    void interceptionIsPerEndpointAndExcludedHostsAreNeverIntercepted() throws Exception {
        CertificateAuthority.create("unit", Instant.now(), Duration.ofDays(1)).writeTo(dir.resolve("ca"));
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, """
                proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}
                proxy_tls_interception:
                  crawl: {intercept_tls: true, intercept_exclude: ["*.bank.example", "bank.example", "10.0.0.0/8"]}
                  other: {intercept_exclude: []}
                """);

        TlsInterceptionSettings settings = TlsInterceptionSettings.load(yaml);
        TlsInterception interception = TlsInterception.create(settings, dev.proxymanager.middleware.clock.Clock.system());

        assertThat(settings.caKey()).isEqualTo(dir.resolve("ca/proxy-manager-ca-key.pem"));
        assertThat(interception.intercepts("crawl", "shop.example")).isTrue();
        assertThat(interception.intercepts("crawl", "www.bank.example")).isFalse();
        assertThat(interception.intercepts("crawl", "BANK.example.")).isFalse();
        assertThat(interception.intercepts("crawl", "10.1.2.3")).isFalse();
        assertThat(interception.intercepts("other", "shop.example")).isFalse(); // off by default
        assertThat(interception.intercepts("unlisted", "shop.example")).isFalse();
    }

    @Test
    void interceptionWithoutACaIsRefusedSayingHowToMakeOne() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_tls_interception: {crawl: {intercept_tls: true}}\n");

        assertThatThrownBy(() -> TlsInterceptionSettings.load(yaml)).isInstanceOf(ServerConfigException.class)
                .hasMessageContaining("proxy_tls_ca").hasMessageContaining("ca generate");
    }

    @Test
    void aBadExcludePatternIsRefusedNamingIt() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_tls_interception: {crawl: {intercept_exclude: [\"a*b.example\"]}}\n");

        assertThatThrownBy(() -> TlsInterceptionSettings.load(yaml)).isInstanceOf(ServerConfigException.class)
                .hasMessageContaining("proxy_tls_interception.crawl.intercept_exclude[0]").hasMessageContaining("a*b.example");
    }

    @Test
    void aWorldReadableCaKeyStopsTheStartNamingTheFile() throws Exception {
        CertificateAuthority.create("unit", Instant.now(), Duration.ofDays(1)).writeTo(dir.resolve("ca"));
        Path key = dir.resolve("ca/proxy-manager-ca-key.pem");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, """
                proxy_tls_ca: {cert: ca/proxy-manager-ca.pem, key: ca/proxy-manager-ca-key.pem}
                proxy_tls_interception: {crawl: {intercept_tls: true}}
                """);

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
