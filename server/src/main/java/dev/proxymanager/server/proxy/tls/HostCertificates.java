package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.clock.Clock;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The certificates the proxy port shows its clients: one per target host, minted on first use and signed by the
 * {@link CertificateAuthority}, each with its own key, held in a bounded cache (least recently used out first) as a
 * ready {@link SSLContext}. A certificate is re-minted when it has less than a day left. This class is threadsafe.
 */
public final class HostCertificates {

    /** Default number of hosts whose certificate is kept: 1000. */
    public static final int DEFAULT_MAX_HOSTS = 1000;
    /** Validity of a minted certificate: 30 days (and never past the CA's own end). */
    public static final Duration VALIDITY = Duration.ofDays(30);
    private static final Duration RENEW_BEFORE = Duration.ofDays(1);

    private record Minted(SSLContext context, Instant notAfter) {
    }

    private final CertificateAuthority ca;
    private final Clock clock;
    private final Map<String, Minted> cache;

    /**
     * @param maxHosts how many hosts' certificates are kept; the least recently used goes first
     */
    public HostCertificates(CertificateAuthority ca, Clock clock, int maxHosts) {
        this.ca = Objects.requireNonNull(ca, "ca");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (maxHosts <= 0) {
            throw new IllegalArgumentException("maxHosts must be > 0, was " + maxHosts);
        }
        this.cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Minted> eldest) {
                return size() > maxHosts;
            }
        };
    }

    /** The server-side TLS context presenting a certificate for {@code host}; mints one when none is cached. */
    public SSLContext contextFor(String host) {
        String h = HostName.normal(host);
        Instant now = clock.now();
        synchronized (cache) {
            Minted m = cache.get(h);
            if (m != null && now.plus(RENEW_BEFORE).isBefore(m.notAfter())) {
                return m.context();
            }
        }
        // minting (a key pair and a signature, about a millisecond) happens outside the lock; two threads minting
        // the same host at once both get a valid certificate and the last one is kept
        Minted minted = mint(h, now);
        synchronized (cache) {
            cache.put(h, minted);
        }
        return minted.context();
    }

    /** One key and its chain, whatever is asked (a PKCS12 store and a KeyManagerFactory per host cost more). */
    private static final class OneKey extends X509ExtendedKeyManager {
        private static final String ALIAS = "host";
        private final PrivateKey key;
        private final X509Certificate[] chain;

        OneKey(PrivateKey key, X509Certificate[] chain) {
            this.key = key;
            this.chain = chain;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return keyType.equals(key.getAlgorithm()) ? ALIAS : null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keyType.equals(key.getAlgorithm()) ? ALIAS : null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return keyType.equals(key.getAlgorithm()) ? new String[]{ALIAS} : null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return chain.clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    /** How many hosts' certificates are cached now. */
    public int size() {
        synchronized (cache) {
            return cache.size();
        }
    }

    private Minted mint(String host, Instant now) {
        try {
            KeyPair pair = CertificateAuthority.newKeyPair();
            X509Certificate leaf = ca.issue(host, pair.getPublic(), now, VALIDITY);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[]{new OneKey(pair.getPrivate(), new X509Certificate[]{leaf, ca.certificate()})},
                    null, null);
            return new Minted(context, leaf.getNotAfter().toInstant());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot mint a certificate for " + host + ": " + e.getMessage(), e);
        }
    }
}
