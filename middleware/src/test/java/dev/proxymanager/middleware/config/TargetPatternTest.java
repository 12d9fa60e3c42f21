package dev.proxymanager.middleware.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetPatternTest {

    private static SecretsConfig proxyEndpoint(String extras) {
        return SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\"" + extras
                + ",\"secrets\":[{\"id\":\"p-1\",\"value\":\"http://127.0.0.1:3128\"}]}}}", Map.of());
    }

    @Test
    void allowedTargetsOfAProxyEndpointAreReadFromSecretsJson() {
        EndpointConfig crawl = proxyEndpoint(",\"allowed_targets\":[\"*.example.com:443\",\"10.1.0.0/16\"],"
                + "\"max_sessions_per_proxy\":5").endpoints().get("crawl");

        assertThat(crawl.allowedTargets()).extracting(Object::toString).containsExactly("*.example.com:443", "10.1.0.0/16");
        assertThat(crawl.allowedTargets().get(0).matchesName("api.example.com")).isTrue();
        assertThat(crawl.allowedTargets().get(0).matchesPort(80)).isFalse();
        assertThat(crawl.allowedTargets().get(1).block()).isNotNull();
        assertThat(crawl.maxSessionsPerProxy()).isEqualTo(5);
    }

    @Test
    void withoutAllowedTargetsAProxyEndpointReachesNothingAndHasNoSessionCap() {
        EndpointConfig crawl = proxyEndpoint("").endpoints().get("crawl");

        assertThat(crawl.allowedTargets()).isEmpty();
        assertThat(crawl.maxSessionsPerProxy()).isZero();
    }

    @Test
    void badPatternIsRefusedWithItsJsonPathAndValue() {
        assertThatThrownBy(() -> proxyEndpoint(",\"allowed_targets\":[\"ok.com\",\"a*b.com\"]"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("endpoints.crawl.allowed_targets[1]").hasMessageContaining("a*b.com");
        assertThatThrownBy(() -> proxyEndpoint(",\"allowed_targets\":[\"ok.com:99999\"]"))
                .hasMessageContaining("endpoints.crawl.allowed_targets[0]").hasMessageContaining("port");
        assertThatThrownBy(() -> proxyEndpoint(",\"allowed_targets\":[\"10.0.0.0/40\"]"))
                .hasMessageContaining("prefix length");
        assertThatThrownBy(() -> proxyEndpoint(",\"max_sessions_per_proxy\":-1"))
                .hasMessageContaining("endpoints.crawl.max_sessions_per_proxy").hasMessageContaining("-1");
    }

    @Test
    void keyEndpointsTakeNoAllowedTargets() {
        assertThatThrownBy(() -> SecretsConfig.parse("{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":"
                + "\"https://api.example.com\",\"allowed_targets\":[\"*\"],\"secrets\":[\"k-1\"]}}}", Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("endpoints.api.allowed_targets")
                .hasMessageContaining("proxy endpoints only");
    }
}
