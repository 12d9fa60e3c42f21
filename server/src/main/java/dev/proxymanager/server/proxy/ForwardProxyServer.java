package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.store.InMemorySessionStore;
import dev.proxymanager.middleware.store.SessionStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.proxymanager.server.proxy.tls.TlsInterception;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;
import dev.proxymanager.server.proxy.tls.UpstreamTrust;

import javax.net.ssl.SSLContext;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;

/**
 * The forward-proxy listener ({@code proxy_port}): its own Jetty server and connector, so the proxy protocol never
 * meets the API routes, with {@link ForwardProxyHandler} as its only handler. Blocking work (upstream handshakes,
 * plain requests) runs on virtual threads; tunnels are relayed by NIO. This class is threadsafe.
 */
public final class ForwardProxyServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardProxyServer.class);

    private final Server jetty;
    private final ServerConnector connector;
    private final ForwardProxyMetrics metrics;
    private final ProxyManager manager;
    private final ForwardProxyHandler handler;

    /**
     * @param host listen address
     * @param settings the listener's settings (port, token, trusted clients, targets)
     * @param manager the engine and request log shared with the rest of the server
     * @param tunnelIdleTimeout how long a connection or tunnel may stay idle before it is closed
     * @param maxRequestBytes largest request body accepted
     * @param maxConnections pooled connections to upstream proxies
     */
    public ForwardProxyServer(String host, ForwardProxySettings settings, ProxyManager manager, Clock clock,
                              MeterRegistry registry, Duration tunnelIdleTimeout, long maxRequestBytes,
                              int maxConnections) {
        this(host, settings, TlsInterceptionSettings.NONE, manager, clock, registry, tunnelIdleTimeout,
                maxRequestBytes, maxConnections, new InMemorySessionStore());
    }

    /**
     * As above, with TLS interception and the trust of TLS to sites set by {@code tls}, binding sticky sessions in
     * {@code sessions} (a Redis one shares them across replicas; the server does not close it).
     *
     * @throws IllegalArgumentException when the CA or the upstream trust store cannot be used (names the file)
     */
    public ForwardProxyServer(String host, ForwardProxySettings settings, TlsInterceptionSettings tls,
                              ProxyManager manager, Clock clock, MeterRegistry registry, Duration tunnelIdleTimeout,
                              long maxRequestBytes, int maxConnections, SessionStore sessions) {
        this(host, settings, TlsInterception.create(tls, clock), UpstreamTrust.context(tls.upstreamTrustStore()),
                manager, clock, registry, tunnelIdleTimeout, maxRequestBytes, maxConnections, sessions);
    }

    /** As above, with interception already prepared ({@code null}: none) and the TLS context towards sites. */
    public ForwardProxyServer(String host, ForwardProxySettings settings, TlsInterception interception,
                              SSLContext upstreamTls, ProxyManager manager, Clock clock, MeterRegistry registry,
                              Duration tunnelIdleTimeout, long maxRequestBytes, int maxConnections,
                              SessionStore sessions) {
        Objects.requireNonNull(settings, "settings");
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("proxy-port");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.jetty = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false); // the site's Date is relayed
        // no acceptor thread: the selector accepts, saving a hand-off per connection (a CONNECT is often one)
        this.connector = new ServerConnector(jetty, 0, -1, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(settings.port());
        connector.setIdleTimeout(tunnelIdleTimeout.toMillis());
        connector.setAcceptQueueSize(4096);
        jetty.addConnector(connector);
        this.manager = Objects.requireNonNull(manager, "manager");
        this.metrics = new ForwardProxyMetrics(registry);
        this.handler = new ForwardProxyHandler(manager, settings, clock, maxRequestBytes,
                maxConnections, metrics, sessions, interception, upstreamTls);
        handler.setIdleTimeout(tunnelIdleTimeout.toMillis());
        jetty.setHandler(handler);
        jetty.setStopTimeout(5_000);
    }

    /**
     * Per target host, the proxies of {@code endpoint} that cannot serve that site now ({@code "scope": "host"}),
     * for {@code GET /api/v1/proxies}.
     */
    public java.util.Map<String, java.util.List<dev.proxymanager.middleware.rotation.SecretStats>> siteUnavailable(
            String endpoint) {
        return handler.siteUnavailable(endpoint);
    }

    /** Starts listening; returns this. */
    public ForwardProxyServer start() throws Exception {
        jetty.start();
        LOG.atInfo().setMessage("proxy port listening").addKeyValue("proxy_port", port()).log();
        return this;
    }

    /** The bound port. */
    public int port() {
        return connector.getLocalPort();
    }

    /** The meters of this listener. */
    public ForwardProxyMetrics metrics() {
        return metrics;
    }

    /**
     * Lines for the start banner: the proxy port and a curl line that works as printed.
     *
     * @param demoSite the demo site's base URL, or {@code null}
     * @param demoSecureSite the demo site's HTTPS base URL (self-signed), or {@code null}
     * @param showToken whether to print the token (the demo's generated one) rather than a placeholder
     */
    public String banner(ForwardProxySettings settings, String demoSite, String demoSecureSite, boolean showToken) {
        String endpoint = manager.endpoints().values().stream()
                .filter(e -> e.type() == dev.proxymanager.middleware.SecretType.PROXY && !e.allowedTargets().isEmpty())
                .map(dev.proxymanager.middleware.config.EndpointConfig::name).sorted().findFirst().orElse("<endpoint>");
        String token = showToken && settings.token() != null ? settings.token() : "<proxy token>";
        String proxy = "http://" + endpoint + ":" + token + "@127.0.0.1:" + port();
        StringBuilder b = new StringBuilder("  Proxy port: 127.0.0.1:").append(port()).append(" (docs/forward-proxy.md)\n");
        String target = demoSite != null ? demoSite + "/" + endpoint + "/items/42" : "http://<site>/";
        b.append("  curl -i -x ").append(proxy).append(' ').append(target).append('\n');
        b.append("  curl -i -x ").append(proxy.replace(endpoint + ":", endpoint + ",session=s1:")).append(' ')
                .append(target).append("   (a sticky session)\n");
        if (demoSecureSite != null) {
            // a CONNECT tunnel through the picked demo proxy; -k: the demo site's certificate is self-signed
            b.append("  curl -k -i -x ").append(proxy).append(' ').append(demoSecureSite).append('/').append(endpoint)
                    .append("/items/42   (HTTPS)\n");
        }
        return b.toString();
    }

    @Override
    public void close() throws Exception {
        jetty.stop();
    }
}
