package dev.proxymanager.server.security;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.EndpointConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TargetGuardTest {

    private final TargetGuard guard = new TargetGuard();

    private static EndpointConfig endpoint(String baseUrl, String... allowedHosts) {
        return EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(URI.create(baseUrl))
                .withAllowedHosts(List.of(allowedHosts)).withSecret("k1", "secret-value")
                .build();
    }

    @Test
    void allowsExactlyTheBaseUrlOriginByDefault() {
        EndpointConfig e = endpoint("http://127.0.0.1:8080/v1");
        assertThat(guard.check(URI.create("http://127.0.0.1:8080/x"), e)).isNull();
        assertThat(guard.check(URI.create("http://127.0.0.1:6379/"), e).reason())
                .contains("origin http://127.0.0.1:6379 is not allowed");
        assertThat(guard.check(URI.create("http://127.0.0.1/"), e)).isNotNull();
        assertThat(guard.check(URI.create("https://127.0.0.1:8080/"), e)).isNotNull();
    }

    @Test
    void allowedHostEntriesNameTheirPortsOrAnyPortExplicitly() {
        EndpointConfig e = endpoint("https://api.example.com", "api.example.com", "cdn.example.com", "files.example.com:8443",
                "*.tiles.example.com:*");
        assertThat(guard.check(URI.create("https://api.example.com/x"), e)).isNull();
        assertThat(guard.check(URI.create("https://api.example.com:8443/x"), e)).isNotNull();
        assertThat(guard.check(URI.create("https://cdn.example.com/x"), e)).isNull();
        assertThat(guard.check(URI.create("http://cdn.example.com/x"), e)).isNull();
        assertThat(guard.check(URI.create("https://cdn.example.com:6379/x"), e)).isNotNull();
        assertThat(guard.check(URI.create("https://files.example.com:8443/x"), e)).isNull();
        assertThat(guard.check(URI.create("https://files.example.com/x"), e)).isNotNull();
        assertThat(guard.check(URI.create("http://a.tiles.example.com:9999/x"), e)).isNull();
        assertThat(guard.check(URI.create("http://evil.example/x"), e).reason()).contains("evil.example");
    }

    @Test
    void refusesOtherSchemesUserInfoAndMetadataAddresses() {
        EndpointConfig e = endpoint("http://127.0.0.1", "169.254.169.254", "fe80::1", "0.0.0.0");
        assertThat(guard.check(URI.create("file:///etc/passwd"), e).reason()).contains("scheme 'file'");
        assertThat(guard.check(URI.create("http://user:pw@127.0.0.1/"), e).reason()).contains("user info");
        assertThat(guard.check(URI.create("http://169.254.169.254/latest"), e).reason()).contains("link-local");
        assertThat(guard.check(URI.create("http://[fe80::1]/"), e).reason()).contains("link-local");
        assertThat(guard.check(URI.create("http://0.0.0.0/"), e).reason()).contains("wildcard");
    }

    @Test
    void refusesLoopbackReachedThroughADnsNameButNotByAddressOrLocalhost() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertThat(guard.refusesAddress("rebind.example", loopback)).contains("loopback");
        assertThat(guard.refusesAddress("127.0.0.1", loopback)).isNull();
        assertThat(guard.refusesAddress("localhost", loopback)).isNull();
        assertThat(guard.refusesAddress("api.example", InetAddress.getByName("169.254.169.254"))).contains("link-local");
        assertThat(guard.refusesAddress("api.example", InetAddress.getByName("93.184.215.14"))).isNull();
        // the same address rule as the proxy port's: "this network" (0.0.0.0/8) is never a target either
        assertThat(guard.refusesAddress("api.example", InetAddress.getByName("0.0.0.1"))).isNotNull();
        assertThat(guard.refusesAddress("api.example", InetAddress.getByName("100.100.100.200"))).isNotNull();
    }
}
