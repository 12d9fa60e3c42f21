package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.server.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class CaCommandTest {

    @TempDir
    Path dir;

    @Test
    void caGenerateWritesAUsableCaAndPrintsHowToTrustItWithoutTheKey() throws Exception {
        Path out = dir.resolve("ca");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            code = new CommandLine(new Main()).execute("ca", "generate", "--out", out.toString());
        } finally {
            System.setOut(saved);
        }

        Path cert = out.resolve(CertificateAuthority.CERT_FILE);
        Path key = out.resolve(CertificateAuthority.KEY_FILE);
        assertThat(code).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        CertificateAuthority ca = CertificateAuthority.load(cert, key);
        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("--cacert " + cert.toAbsolutePath())
                .contains("REQUESTS_CA_BUNDLE=").contains("-Djavax.net.ssl.trustStore")
                .contains("--ignore-certificate-errors-spki-list=" + ca.spkiSha256())
                .contains("proxy_tls_ca:");
        String keyBody = Files.readString(key).lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        assertThat(text).doesNotContain(keyBody);

        // a second run refuses to overwrite
        assertThat(new CommandLine(new Main()).execute("ca", "generate", "--out", out.toString())).isEqualTo(1);
        assertThat(CertificateAuthority.load(cert, key).certificate()).isEqualTo(ca.certificate());
    }
}
