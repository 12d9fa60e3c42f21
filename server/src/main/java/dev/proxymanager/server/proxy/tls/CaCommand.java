package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.clock.Clock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.Callable;

/** {@code ca}: the certificate authority of TLS interception; {@code ca generate --out DIR} makes a new one. */
@Command(name = "ca", mixinStandardHelpOptions = true, subcommands = CaCommand.Generate.class,
        description = "The certificate authority of TLS interception on the proxy port (docs/forward-proxy.md).")
public final class CaCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.err.println("usage: proxy-manager-server ca generate --out DIR");
        return 2;
    }

    /** {@code ca generate --out DIR}: writes a new CA and prints how to use and trust it. */
    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Write a new interception CA (certificate + key, PEM; the key readable by you only).")
    public static final class Generate implements Callable<Integer> {

        @Option(names = "--out", required = true, description = "Folder to write proxy-manager-ca.pem and proxy-manager-ca-key.pem to.")
        Path out;

        @Option(names = "--validity-days", defaultValue = "730", description = "Validity of the CA (default ${DEFAULT-VALUE} days).")
        int validityDays;

        @Override
        public Integer call() throws Exception {
            if (validityDays <= 0) {
                System.err.println("--validity-days must be > 0, was " + validityDays);
                return 2;
            }
            Clock clock = Clock.system();
            String label = hostName() + ", " + LocalDate.ofInstant(clock.now(), ZoneOffset.UTC);
            CertificateAuthority ca = CertificateAuthority.create(label, clock.now(),
                    java.time.Duration.ofDays(validityDays));
            Path cert;
            try {
                cert = ca.writeTo(out);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                System.err.println(e.getMessage());
                return 1;
            }
            printHowToTrust(System.out, ca, cert, out.resolve(CertificateAuthority.KEY_FILE));
            return 0;
        }

        private static String hostName() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                return "localhost";
            }
        }
    }

    static void printHowToTrust(PrintStream out, CertificateAuthority ca, Path cert, Path key) {
        Path c = cert.toAbsolutePath();
        out.println("Wrote " + ca.certificate().getSubjectX500Principal().getName());
        out.println("  certificate: " + c + " (public: give it to the clients)");
        out.println("  key:         " + key.toAbsolutePath() + " (secret: readable by you only; never share it)");
        out.println("  valid until: " + ca.certificate().getNotAfter().toInstant());
        out.println();
        out.println("server.yaml:");
        out.println("  proxy_tls_ca: {cert: " + c + ", key: " + key.toAbsolutePath() + "}");
        out.println("secrets.json, in each proxy endpoint that intercepts:");
        out.println("  \"intercept_tls\": true, \"intercept_exclude\": []");
        out.println();
        out.println("Trust it only where you mean to inspect the traffic:");
        out.println("  curl:      curl --cacert " + c + " -x http://<endpoint>:<token>@<host>:<port> https://site/");
        out.println("  Python:    REQUESTS_CA_BUNDLE=" + c + "  (or requests.get(url, verify=\"" + c + "\"))");
        out.println("  Java:      keytool -importcert -noprompt -alias proxy-manager-ca -file " + c
                + " -keystore pm-trust.p12 -storepass changeit");
        out.println("             java -Djavax.net.ssl.trustStore=pm-trust.p12 -Djavax.net.ssl.trustStorePassword=changeit ...");
        out.println("  Chromium:  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n proxy-manager-ca -i " + c);
        out.println("             or chromium --ignore-certificate-errors-spki-list=" + ca.spkiSha256());
    }
}
