package dev.proxymanager.server.proxy.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;
import java.util.Set;

/**
 * The certificate authority of TLS interception ({@code proxy_tls_ca}): a CA certificate and its private key, read
 * from PEM files or made by {@code proxy-manager-server ca generate}, that signs the per-host certificates the proxy
 * port shows its clients. Keys are ECDSA P-256, signatures SHA-256.
 *
 * <p>The private key is a secret: it never leaves this object, {@link #toString()} names the certificate only, and
 * {@link #load} refuses a key file other users can read. This class is threadsafe (immutable).
 */
public final class CertificateAuthority {

    /** Default validity of a generated CA: 2 years. */
    public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(730);
    /** File name of a generated CA certificate. */
    public static final String CERT_FILE = "proxy-manager-ca.pem";
    /** File name of a generated CA key. */
    public static final String KEY_FILE = "proxy-manager-ca-key.pem";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SIGNATURE = "SHA256withECDSA";

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /**
     * Makes a new CA named "Proxy Manager interception CA (&lt;label&gt;)", valid from an hour before {@code now} for
     * {@code validity}.
     *
     * @param label what tells this CA apart from others in a trust store (e.g. the host name and date)
     */
    public static CertificateAuthority create(String label, Instant now, Duration validity) {
        Objects.requireNonNull(label, "label");
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, "Proxy Manager interception CA (" + label + ")")
                .addRDN(BCStyle.O, "Proxy Manager")
                .addRDN(BCStyle.OU, "TLS interception: trust only on machines whose traffic you inspect")
                .build();
        try {
            KeyPair pair = newKeyPair();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), name, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new CertificateAuthority(sign(b, pair.getPrivate()), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the CA from PEM files, refusing a key file that other users may read.
     *
     * @throws IllegalArgumentException when a file is missing, unreadable, not PEM, the key does not match the
     *                                  certificate, or the key file is readable by others (the message names it)
     */
    public static CertificateAuthority load(Path certFile, Path keyFile) {
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        checkOwnerOnly(keyFile);
        X509Certificate cert;
        PrivateKey key;
        try (PEMParser certPem = new PEMParser(Files.newBufferedReader(certFile, StandardCharsets.US_ASCII));
             PEMParser keyPem = new PEMParser(Files.newBufferedReader(keyFile, StandardCharsets.US_ASCII))) {
            Object c = certPem.readObject();
            if (!(c instanceof X509CertificateHolder holder)) {
                throw new IllegalArgumentException("proxy_tls_ca.cert: " + certFile + " holds no PEM certificate");
            }
            cert = new JcaX509CertificateConverter().getCertificate(holder);
            Object k = keyPem.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (k instanceof PEMKeyPair pair) {
                key = converter.getPrivateKey(pair.getPrivateKeyInfo());
            } else if (k instanceof PrivateKeyInfo info) {
                key = converter.getPrivateKey(info);
            } else {
                // no detail: the text of a key file is never echoed
                throw new IllegalArgumentException("proxy_tls_ca.key: " + keyFile + " holds no unencrypted PEM private key");
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("proxy_tls_ca: cannot read " + certFile + " / " + keyFile + ": "
                    + e.getClass().getSimpleName(), e);
        }
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("proxy_tls_ca.cert: " + certFile + " is not a CA certificate");
        }
        CertificateAuthority ca = new CertificateAuthority(cert, key);
        ca.checkKeyMatches(certFile, keyFile);
        return ca;
    }

    /**
     * Writes this CA to {@code dir} as {@value #CERT_FILE} and {@value #KEY_FILE} (the key created readable by the
     * owner only); refuses to overwrite either file.
     *
     * @return the certificate file
     * @throws IOException when a file exists or cannot be written
     */
    public Path writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path certFile = dir.resolve(CERT_FILE);
        Path keyFile = dir.resolve(KEY_FILE);
        for (Path p : new Path[]{certFile, keyFile}) {
            if (Files.exists(p)) {
                throw new FileAlreadyExistsException(p + " exists; not overwritten (move it away to make a new CA)");
            }
        }
        boolean posix = Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null;
        if (posix) {
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(
                    Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        } else {
            Files.createFile(keyFile);
        }
        try (Writer w = Files.newBufferedWriter(keyFile, StandardCharsets.US_ASCII)) {
            // PKCS#8 ("PRIVATE KEY"): what openssl, curl and the JDK all read
            w.write("-----BEGIN PRIVATE KEY-----\n"
                    + java.util.Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----\n");
        }
        Files.writeString(certFile, certificatePem(), StandardCharsets.US_ASCII);
        return certFile;
    }

    /**
     * Issues a server certificate for {@code host} (a DNS name or an IP address, which becomes the only subject
     * alternative name), valid from an hour before {@code now} for {@code validity} but never past the CA's own end.
     */
    X509Certificate issue(String host, PublicKey subjectKey, Instant now, Duration validity) {
        Date notAfter = Date.from(now.plus(validity));
        if (notAfter.after(certificate.getNotAfter())) {
            notAfter = certificate.getNotAfter();
        }
        boolean ip = HostName.isIpLiteral(host);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, host).build();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), notAfter, subject, subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, host)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            return sign(b, key);
        } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot issue a certificate for " + host + ": " + e.getMessage(), e);
        }
    }

    /** The CA certificate (public). */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA certificate as PEM text (public; what clients add to their trust store). */
    public String certificatePem() {
        StringWriter w = new StringWriter();
        try {
            writePem(w, certificate);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    /** The SHA-256 hash of the CA's public key, base64: what Chromium's {@code --ignore-certificate-errors-spki-list} takes. */
    public String spkiSha256() {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(certificate.getPublicKey().getEncoded());
            return java.util.Base64.getEncoder().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + certificate.getSubjectX500Principal().getName() + ", until "
                + certificate.getNotAfter().toInstant() + "]";
    }

    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(signatureFor(key)).build(key)));
    }

    /** ECDSA for generated CAs; an RSA CA loaded from files signs with RSA. */
    private static String signatureFor(PrivateKey key) {
        return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : SIGNATURE;
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static void writePem(Writer w, Object o) throws IOException {
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(o);
        }
    }

    private static void checkOwnerOnly(Path keyFile) {
        if (!Files.isReadable(keyFile)) {
            throw new IllegalArgumentException("proxy_tls_ca.key: " + keyFile + " does not exist or cannot be read");
        }
        PosixFileAttributeView view = Files.getFileAttributeView(keyFile, PosixFileAttributeView.class);
        if (view == null) {
            return; // no POSIX permissions on this file system: nothing to check
        }
        Set<PosixFilePermission> perms;
        try {
            perms = view.readAttributes().permissions();
        } catch (IOException e) {
            throw new IllegalArgumentException("proxy_tls_ca.key: cannot read the permissions of " + keyFile, e);
        }
        if (perms.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IllegalArgumentException("proxy_tls_ca.key: " + keyFile + " is readable by every user (mode "
                    + PosixFilePermissions.toString(perms) + "); the CA key must be readable by its owner only:"
                    + " chmod 600 " + keyFile);
        }
    }

    private void checkKeyMatches(Path certFile, Path keyFile) {
        try {
            byte[] probe = "proxy-manager-ca-check".getBytes(StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance(signatureFor(key));
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(certificate.getPublicKey());
            s.update(probe);
            if (!s.verify(sig)) {
                throw new IllegalArgumentException("proxy_tls_ca: the key " + keyFile + " does not belong to the"
                        + " certificate " + certFile);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("proxy_tls_ca: the key " + keyFile + " does not belong to the"
                    + " certificate " + certFile + " (" + e.getClass().getSimpleName() + ")", e);
        }
    }
}
