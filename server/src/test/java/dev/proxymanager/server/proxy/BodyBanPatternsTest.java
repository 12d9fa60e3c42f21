package dev.proxymanager.server.proxy;

import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BodyBanPatternsTest {

    @TempDir
    Path dir;

    @Test
    void patternsArePerEndpointAndMatchAnywhereInTheCheckedBytes() {
        BodyBanPatterns bans = BodyBanPatterns.of(Map.of("crawl", List.of("(?i)captcha", "Access denied")));
        byte[] page = "<html>…<h1>Please solve this CAPTCHA</h1>".getBytes(StandardCharsets.UTF_8);

        assertThat(bans.checks("crawl")).isTrue();
        assertThat(bans.checks("other")).isFalse();
        assertThat(bans.match("crawl", page, page.length)).isEqualTo("(?i)captcha");
        assertThat(bans.match("crawl", page, 10)).isNull(); // only the bytes given are looked at
        assertThat(bans.match("other", page, page.length)).isNull();
    }

    @Test
    void aBadExpressionIsRefusedNamingItsPlace() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, "proxy_ban_body_patterns: {crawl: [\"ok\", \"(unclosed\"]}\n");

        assertThatThrownBy(() -> BodyBanPatterns.load(yaml)).isInstanceOf(ServerConfigException.class)
                .hasMessageStartingWith("proxy_ban_body_patterns.crawl[1]: must be a regular expression")
                .hasMessageContaining("(unclosed");
    }

    @Test
    void theServerConfigAcceptsTheInterceptionAndBodyPatternKeys() throws Exception {
        Path yaml = dir.resolve("server.yaml");
        Files.writeString(yaml, """
                proxy_port: 0
                proxy_ban_body_patterns: {crawl: ["captcha"]}
                proxy_tls_interception: {crawl: {intercept_tls: false}}
                proxy_upstream_trust_store: sites.pem
                """);

        ServerConfigLoader.load(yaml, Map.of(), Map.of());
        assertThat(BodyBanPatterns.load(yaml).checks("crawl")).isTrue();
    }
}
