package dev.proxymanager.server;

import dev.proxymanager.server.http.JsonErrorHandler;
import dev.proxymanager.server.http.Routes;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;

/**
 * The Jetty 12 server around {@link Routes}: requests run on virtual threads, and {@link #stop()} drains —
 * it stops accepting, lets in-flight requests finish within the drain timeout, then closes the resources
 * registered with {@link #onStopped} (forwarder, usage store, request log), in reverse order.
 * This class is threadsafe.
 */
public final class ForwardingServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingServer.class);
    /** Idle time allowed to a connection outside a request (keep-alive, or headers still arriving): 30 s. */
    public static final Duration CONNECTION_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Time a request's headers may take to arrive once started: 10 to 20 s (see {@link RequestHeaderDeadline}). */
    public static final Duration REQUEST_HEADER_DEADLINE = Duration.ofSeconds(10);
    /** Idle time allowed while a request is handled: 6 min, above the 300 s upstream read timeout. */
    public static final Duration HANDLING_IDLE_TIMEOUT = Duration.ofMinutes(6);

    private final Server jetty;
    private final ServerConnector connector;
    private final Routes routes;
    private RequestHeaderDeadline headerDeadline;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private boolean stopped;

    /**
     * @param host listen address
     * @param port listen port (0 = a free one)
     * @param routes the routes
     * @param drainTimeout how long {@link #stop()} waits for in-flight requests
     */
    public ForwardingServer(String host, int port, Routes routes, Duration drainTimeout) {
        this.routes = Objects.requireNonNull(routes, "routes");
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("proxy-manager");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.jetty = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false); // no version banner for scanners
        // RFC 9110/9112 without Jetty's one leniency: a bare LF does not end a header line
        http.setHttpCompliance(HttpCompliance.RFC9110.without("RFC9110_STRICT_EOL",
                HttpCompliance.Violation.LF_HEADER_TERMINATION));
        // while a request is handled the connection may be quiet until the upstream answers (read timeout, 300 s)
        http.setIdleTimeout(HANDLING_IDLE_TIMEOUT.toMillis());
        this.connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        // bounds a connection that sends nothing, or its headers too slowly, between requests
        connector.setIdleTimeout(CONNECTION_IDLE_TIMEOUT.toMillis());
        this.headerDeadline = new RequestHeaderDeadline(connector.getScheduler(), REQUEST_HEADER_DEADLINE);
        connector.addBean(headerDeadline);
        connector.setAcceptQueueSize(4096);
        jetty.addConnector(connector);
        // GracefulHandler answers 503 to new requests once shutdown starts and waits for those in flight
        GracefulHandler graceful = new GracefulHandler(routes);
        jetty.setHandler(graceful);
        jetty.setErrorHandler(new JsonErrorHandler()); // protocol errors answer JSON like the routes
        jetty.setStopTimeout(drainTimeout.toMillis());
        jetty.setStopAtShutdown(false); // our own hook orders Jetty before the resources it uses
    }

    /** How long a connection may stay idle outside a request; default {@link #CONNECTION_IDLE_TIMEOUT}. Before start. */
    public ForwardingServer withConnectionIdleTimeout(Duration timeout) {
        connector.setIdleTimeout(timeout.toMillis());
        return this;
    }

    /** How long a request's headers may take to arrive; default {@link #REQUEST_HEADER_DEADLINE}. Before start. */
    public ForwardingServer withRequestHeaderDeadline(Duration deadline) {
        connector.removeBean(headerDeadline);
        headerDeadline = new RequestHeaderDeadline(connector.getScheduler(), deadline);
        connector.addBean(headerDeadline);
        return this;
    }

    /** Starts listening; returns this. */
    public ForwardingServer start() throws Exception {
        jetty.start();
        LOG.atInfo().setMessage("forwarding server listening").addKeyValue("port", port()).log();
        return this;
    }

    /** The bound port. */
    public int port() {
        return connector.getLocalPort();
    }

    /** Whether shutdown has begun (new requests are refused, in-flight ones finishing). */
    public boolean isDraining() {
        return jetty.isStopping() || jetty.isStopped();
    }

    /** The routes, e.g. to {@linkplain Routes#mount mount} a handler. */
    public Routes routes() {
        return routes;
    }

    /** Registers a resource to close after the server has drained (closed in reverse order of registration). */
    public synchronized ForwardingServer onStopped(AutoCloseable resource) {
        closeables.add(Objects.requireNonNull(resource, "resource"));
        return this;
    }

    /** Closes this server when the JVM exits (SIGTERM, Ctrl-C). */
    public ForwardingServer stopOnShutdown() {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("proxy-manager-shutdown").unstarted(this::stop));
        return this;
    }

    /** Drains and stops the server, then closes the registered resources. Idempotent. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        routes.markNotReady();
        LOG.atInfo().setMessage("draining").addKeyValue("drain_timeout_ms", jetty.getStopTimeout()).log();
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.atWarn().setMessage("server stop failed").addKeyValue("error", e.toString()).log();
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                LOG.atWarn().setMessage("closing a resource failed").addKeyValue("error", e.toString()).log();
            }
        }
        LOG.info("stopped");
    }

    @Override
    public void close() {
        stop();
    }
}
