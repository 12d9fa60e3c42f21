package dev.proxymanager.server.proxy.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;

/**
 * What the proxy port trusts when it speaks TLS to sites: the JVM's trust store, plus the certificates of
 * {@code proxy_upstream_trust_store} when set (for test sites with their own CA). Certificates are always verified,
 * host names always checked: there is no "trust all". This class is threadsafe (stateless).
 */
public final class UpstreamTrust {

    private UpstreamTrust() {
    }

    /**
     * @param extraPem a PEM file of CA certificates to trust beside the JVM's, or {@code null}
     * @throws IllegalArgumentException when the file cannot be read or holds no certificate
     */
    public static SSLContext context(Path extraPem) {
        try {
            if (extraPem == null) {
                return SSLContext.getDefault();
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            TrustManagerFactory jvm = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jvm.init((KeyStore) null);
            int n = 0;
            for (var tm : jvm.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        store.setCertificateEntry("jvm-" + n++, c);
                    }
                }
            }
            Collection<? extends Certificate> extra;
            try (InputStream in = Files.newInputStream(extraPem)) {
                extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (extra.isEmpty()) {
                throw new IllegalArgumentException("proxy_upstream_trust_store: " + extraPem + " holds no certificate");
            }
            for (Certificate c : extra) {
                store.setCertificateEntry("extra-" + n++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("proxy_upstream_trust_store: cannot read " + extraPem + ": "
                    + e.getMessage(), e);
        }
    }
}
