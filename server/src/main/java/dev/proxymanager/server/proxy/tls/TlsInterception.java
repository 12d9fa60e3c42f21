package dev.proxymanager.server.proxy.tls;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Attributes;
import org.eclipse.jetty.util.Callback;

import javax.net.ssl.SSLEngine;
import java.util.Objects;

/**
 * TLS interception on the proxy port ("SSL analysis"), opt-in per proxy endpoint: a {@code CONNECT} to an
 * intercepted host is answered {@code 200} by the proxy itself, which then speaks TLS to the client with a
 * certificate for that host signed by the {@link CertificateAuthority} ({@link HostCertificates}), HTTP/1.1 by ALPN,
 * and reads plain HTTP requests from inside. Those requests reach the port's handler again, on a connection marked
 * with {@link #TUNNEL_ATTRIBUTE}, and are sent like plain proxied requests (rotated upstream proxy, TLS to the site
 * verified). A client that does not trust the CA fails its handshake; nothing is served. This class is threadsafe.
 */
public final class TlsInterception {

    /**
     * The attribute of an intercepted connection's metadata ({@link Request#getConnectionMetaData()}) holding what
     * the handler attached to it at CONNECT time.
     */
    public static final String TUNNEL_ATTRIBUTE = "proxy-manager.intercepted-tunnel";
    private static final String HTTP_1_1 = "http/1.1";

    private final HostCertificates certificates;

    private TlsInterception(HostCertificates certificates) {
        this.certificates = certificates;
    }

    /**
     * Loads the CA and prepares interception; {@code null} when no CA is configured (no endpoint may intercept:
     * {@link TlsInterceptionSettings#checkEndpoints}).
     *
     * @throws IllegalArgumentException when the CA files are unusable (the message names the file)
     */
    public static TlsInterception create(TlsInterceptionSettings settings, Clock clock) {
        Objects.requireNonNull(settings, "settings");
        if (!settings.hasCa()) {
            return null;
        }
        CertificateAuthority ca = CertificateAuthority.load(settings.caCert(), settings.caKey());
        return new TlsInterception(new HostCertificates(ca, clock, HostCertificates.DEFAULT_MAX_HOSTS));
    }

    /** For tests and benchmarks: interception with a CA in memory. */
    public static TlsInterception create(CertificateAuthority ca, Clock clock, int maxHosts) {
        return new TlsInterception(new HostCertificates(ca, clock, maxHosts));
    }

    /**
     * Whether a {@code CONNECT} of {@code endpoint} to {@code host} is intercepted: the endpoint's current
     * {@code intercept_tls}, unless {@code host} matches its {@code intercept_exclude}.
     */
    public boolean intercepts(EndpointConfig endpoint, String host) {
        return endpoint.interceptTls() && !HostName.matchesAny(endpoint.interceptExclude(), host);
    }

    /** The minted certificates (for metrics and benchmarks). */
    public HostCertificates certificates() {
        return certificates;
    }

    /**
     * Answers the {@code CONNECT} with {@code 200} and turns the client's connection into TLS (a certificate for
     * {@code host}) carrying HTTP/1.1, whose requests are marked with {@code tunnel} in {@link #TUNNEL_ATTRIBUTE}.
     *
     * @param tunnel what the handler needs to send the requests from inside (endpoint, session, host, port)
     */
    public void takeOver(Request request, Response response, Callback callback, String host, Object tunnel) {
        ConnectionMetaData meta = request.getConnectionMetaData();
        Connector connector = meta.getConnector();
        EndPoint client = request.getTunnelSupport().getEndPoint();
        SSLEngine engine = certificates.contextFor(host).createSSLEngine();
        engine.setUseClientMode(false);
        // HTTP/1.1 only: offered h2 is declined, a client that offers no ALPN still gets HTTP/1.1
        engine.setHandshakeApplicationProtocolSelector((e, offered) -> offered.contains(HTTP_1_1) ? HTTP_1_1 : "");
        SslConnection tls = new SslConnection(connector.getByteBufferPool(), connector.getExecutor(), client, engine);
        tls.setRenegotiationAllowed(false);
        HttpConnectionFactory http = connector.getConnectionFactory(HttpConnectionFactory.class);
        Connection inner = http.newConnection(connector, tls.getSslEndPoint());
        ((Attributes) inner).setAttribute(TUNNEL_ATTRIBUTE, tunnel);
        tls.getSslEndPoint().setConnection(inner);
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, tls);
        response.setStatus(200);
        callback.succeeded();
    }
}
