package dev.proxymanager.server.proxy.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertificateAuthorityTest {

    static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path dir;

    @Test
    void writtenCaHasAKeyReadableByTheOwnerOnlyAndLoadsBack() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("unit", NOW, Duration.ofDays(730));

        Path cert = ca.writeTo(dir);
        Path key = dir.resolve(CertificateAuthority.KEY_FILE);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(cert)).startsWith("-----BEGIN CERTIFICATE-----");
        CertificateAuthority loaded = CertificateAuthority.load(cert, key);
        assertThat(loaded.certificate()).isEqualTo(ca.certificate());
        X509Certificate c = loaded.certificate();
        assertThat(c.getSubjectX500Principal().getName()).contains("Proxy Manager interception CA (unit)");
        assertThat(c.getBasicConstraints()).isZero();
        assertThat(c.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(730)));
    }

    @Test
    void aWorldReadableKeyIsRefusedWithAMessageNamingTheFile() throws Exception {
        Path cert = CertificateAuthority.create("unit", NOW, Duration.ofDays(1)).writeTo(dir);
        Path key = dir.resolve(CertificateAuthority.KEY_FILE);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> CertificateAuthority.load(cert, key))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("proxy_tls_ca.key")
                .hasMessageContaining(key.toString())
                .hasMessageContaining("chmod 600");
    }

    @Test
    void aKeyOfAnotherCaIsRefused() throws Exception {
        Path one = CertificateAuthority.create("one", NOW, Duration.ofDays(1)).writeTo(dir.resolve("one"));
        CertificateAuthority.create("two", NOW, Duration.ofDays(1)).writeTo(dir.resolve("two"));

        assertThatThrownBy(() -> CertificateAuthority.load(one, dir.resolve("two").resolve(CertificateAuthority.KEY_FILE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong to the certificate");
    }

    @Test
    void existingFilesAreNeverOverwritten() throws Exception {
        CertificateAuthority.create("one", NOW, Duration.ofDays(1)).writeTo(dir);
        String before = Files.readString(dir.resolve(CertificateAuthority.KEY_FILE));

        assertThatThrownBy(() -> CertificateAuthority.create("two", NOW, Duration.ofDays(1)).writeTo(dir))
                .hasMessageContaining("not overwritten");
        assertThat(Files.readString(dir.resolve(CertificateAuthority.KEY_FILE))).isEqualTo(before);
    }

    @Test
    void issuedCertificateNamesTheHostOrIpAsItsOnlySanAndChainsToTheCa() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("unit", NOW, Duration.ofDays(10));
        var pair = CertificateAuthority.newKeyPair();

        X509Certificate dns = ca.issue("shop.example.com", pair.getPublic(), NOW, Duration.ofDays(30));
        X509Certificate ip = ca.issue("127.0.0.1", pair.getPublic(), NOW, Duration.ofDays(30));

        assertThat(dns.getSubjectAlternativeNames()).containsExactly(List.of(2, "shop.example.com"));
        assertThat(ip.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
        dns.verify(ca.certificate().getPublicKey());
        assertThat(dns.getBasicConstraints()).isEqualTo(-1);
        assertThat(dns.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        // never valid past the CA's own end
        assertThat(dns.getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
    }

    @Test
    void toStringNamesTheCertificateButNeverTheKey() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("unit", NOW, Duration.ofDays(1));
        ca.writeTo(dir);
        String keyPem = Files.readString(dir.resolve(CertificateAuthority.KEY_FILE));
        String keyBody = keyPem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();

        assertThat(ca.toString()).contains("Proxy Manager interception CA").doesNotContain(keyBody);
        assertThat(ca.certificatePem()).doesNotContain(keyBody);
    }
}
