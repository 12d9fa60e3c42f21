package dev.proxymanager.middleware.config;

import dev.proxymanager.middleware.SecretType;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EndpointConfigAllowedHostsTest {

    @Test
    void allowedHostEntriesWithPortsStillNameTheirHost() {
        EndpointConfig e = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(URI.create("https://api.example.com"))
                .withAllowedHosts(List.of("api.example.com", "files.example.com:8443", "[::1]:*", "fe80::1"))
                .withSecret("k1", "secret-value").build();

        assertThat(e.allowsHost("API.example.com")).isTrue();
        assertThat(e.allowsHost("files.example.com")).isTrue();
        assertThat(e.allowsHost("::1")).isTrue();
        assertThat(e.allowsHost("[::1]")).isTrue();
        assertThat(e.allowsHost("fe80::1")).isTrue();
        assertThat(e.allowsHost("files.example.com:8443")).isFalse();
        assertThat(e.allowsHost("evil.example")).isFalse();
        assertThat(e.allowsHost(null)).isFalse();
    }

    @Test
    void hostOfDropsThePortAndBrackets() {
        assertThat(EndpointConfig.hostOf("h.example:80")).isEqualTo("h.example");
        assertThat(EndpointConfig.hostOf("h.example:*")).isEqualTo("h.example");
        assertThat(EndpointConfig.hostOf("[2001:db8::1]:443")).isEqualTo("2001:db8::1");
        assertThat(EndpointConfig.hostOf("2001:db8::1")).isEqualTo("2001:db8::1");
        assertThat(EndpointConfig.hostOf("h.example")).isEqualTo("h.example");
    }
}
