package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.clock.FakeClock;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class HostCertificatesTest {

    final CertificateAuthority ca = CertificateAuthority.create("unit", Instant.parse("2026-12-01T00:00:00Z"),
            Duration.ofDays(365));

    @Test
    void aHostsCertificateIsMintedOnceAndReused() {
        FakeClock clock = fakeClock();
        HostCertificates certs = new HostCertificates(ca, clock, 10);

        SSLContext first = certs.contextFor("Shop.Example.com");
        SSLContext again = certs.contextFor("shop.example.com.");

        assertThat(again).isSameAs(first);
        assertThat(certs.size()).isOne();
    }

    @Test
    void theCacheIsBoundedDroppingTheLeastRecentlyUsedHost() {
        HostCertificates certs = new HostCertificates(ca, fakeClock(), 2);
        SSLContext a = certs.contextFor("a.example");
        certs.contextFor("b.example");
        certs.contextFor("a.example"); // a is now the most recently used
        certs.contextFor("c.example"); // b goes

        assertThat(certs.size()).isEqualTo(2);
        assertThat(certs.contextFor("a.example")).isSameAs(a);
    }

    @Test
    void aCertificateNearItsEndIsMintedAgain() {
        FakeClock clock = fakeClock();
        HostCertificates certs = new HostCertificates(ca, clock, 10);
        SSLContext first = certs.contextFor("a.example");

        clock.advance(HostCertificates.VALIDITY.minus(Duration.ofHours(12)));

        assertThat(certs.contextFor("a.example")).isNotSameAs(first);
    }

    private static FakeClock fakeClock() {
        return new FakeClock(Instant.parse("2026-12-02T00:00:00Z"));
    }
}
