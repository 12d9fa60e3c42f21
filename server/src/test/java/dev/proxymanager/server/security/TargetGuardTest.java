package dev.proxymanager.server.security;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TargetGuardTest {

    private final TargetGuard guard = new TargetGuard();

    @Test
    void allowsListedHostsAndWildcardSubdomains() {
        assertThat(guard.check(URI.create("http://127.0.0.1:8080/x"), List.of("127.0.0.1"))).isNull();
        assertThat(guard.check(URI.create("https://127.0.0.1/x"), List.of("*.0.0.1", "localhost"))).isNull();
    }

    @Test
    void refusesOtherHostsSchemesUserInfoAndMetadataAddresses() {
        assertThat(guard.check(URI.create("http://evil.example/x"), List.of("127.0.0.1")).reason())
                .contains("evil.example is not allowed");
        assertThat(guard.check(URI.create("file:///etc/passwd"), List.of("127.0.0.1")).reason()).contains("scheme 'file'");
        assertThat(guard.check(URI.create("http://user:pw@127.0.0.1/"), List.of("127.0.0.1")).reason()).contains("user info");
        assertThat(guard.check(URI.create("http://169.254.169.254/latest"), List.of("169.254.169.254")).reason())
                .contains("link-local");
        assertThat(guard.check(URI.create("http://[fe80::1]/"), List.of("fe80::1")).reason()).contains("link-local");
        assertThat(guard.check(URI.create("http://0.0.0.0/"), List.of("0.0.0.0")).reason()).contains("wildcard");
    }
}
