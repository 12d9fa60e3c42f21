package dev.proxymanager.server.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for the demo site's HTTPS port, made at start with the JDK's {@code keytool} (present
 * in JDK and JRE images): {@code CN=127.0.0.1}, SANs 127.0.0.1 and localhost, valid 2 days, a fresh random store
 * password. Clients trust it with {@code curl -k}. Not for anything but the loopback demo.
 *
 * @param keyStore the PKCS#12 file
 * @param password its store and key password
 */
record DemoCertificate(Path keyStore, String password) {

    /**
     * Generates one in a new temporary folder.
     *
     * @throws IllegalStateException if keytool is missing or fails (its output in the message)
     */
    static DemoCertificate generate() throws IOException, InterruptedException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            throw new IllegalStateException(keytool + " is missing: the demo site runs without HTTPS");
        }
        Path dir = Files.createTempDirectory("proxy-manager-demo-tls");
        dir.toFile().deleteOnExit();
        Path store = dir.resolve("demo-site.p12");
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        ProcessBuilder pb = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "demo-site", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass:env", "PM_DEMO_PASS",
                "-keypass:env", "PM_DEMO_PASS").redirectErrorStream(true);
        // the password goes through the environment, never the command line (visible in ps)
        pb.environment().put("PM_DEMO_PASS", password);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.exists(store)) {
            throw new IllegalStateException("keytool failed: " + out.strip());
        }
        store.toFile().deleteOnExit();
        return new DemoCertificate(store, password);
    }
}
