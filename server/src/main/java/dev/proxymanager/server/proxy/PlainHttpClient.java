package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.transport.ProxyAddress;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.client5.http.io.HttpClientConnectionManager;
import org.apache.hc.client5.http.io.LeaseRequest;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.HttpEntityWrapper;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Sends one plain-HTTP request of the proxy port through a given upstream proxy, as a proxy must: no redirects
 * followed, no content decoded, no cookies, and no retries on another proxy of its own (the caller does those,
 * counting them against the proxy). Connections are pooled per upstream proxy. The one retry it makes is on the
 * same proxy, for a pooled kept-alive connection the proxy had closed unseen ({@link #retriableOnFreshConnection}):
 * that is the pool's fault, not the proxy's. Read timeouts are kept by {@link ReadDeadlines}, not by the sockets.
 * This class is threadsafe.
 */
final class PlainHttpClient implements AutoCloseable {

    private static final String PROXY_ATTRIBUTE = "proxy-manager.upstream-proxy";
    /** Set on an exchange's context when it dialled a new connection rather than reusing a pooled one. */
    private static final String DIALLED_ATTRIBUTE = "proxy-manager.dialled";
    /** The exchange's {@link ReadDeadlines.Watch}: dialling pauses it (the dial has its own timeout). */
    private static final String WATCH_ATTRIBUTE = "proxy-manager.read-deadline";
    /** The user token of a retry: {@link FreshConnections} hands it a new connection, never a pooled one. */
    private static final Object FRESH_CONNECTION = new Object() {
        @Override
        public String toString() {
            return "fresh-connection";
        }
    };
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

    /**
     * How long a pooled connection may sit idle before it is checked (a read blocking up to 1 ms) on reuse: 2 s,
     * HttpClient 4's default. Checking on every reuse cost a third of the port's throughput; a connection that went
     * stale sooner is caught by the retry instead.
     */
    static final TimeValue VALIDATE_AFTER_INACTIVITY = TimeValue.ofSeconds(2);

    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient client;
    private final ReadDeadlines deadlines;
    private final Runnable onStaleRetry;

    /**
     * @param upstreamTls what TLS to sites trusts ({@link dev.proxymanager.server.proxy.tls.UpstreamTrust}); host
     *                    names are always verified
     * @param clock the time source of read deadlines
     * @param onStaleRetry told each time a request is sent again on a fresh connection
     */
    PlainHttpClient(int maxConnections, SSLContext upstreamTls, Clock clock, Runnable onStaleRetry) {
        this.onStaleRetry = Objects.requireNonNull(onStaleRetry, "onStaleRetry");
        this.deadlines = new ReadDeadlines(clock);
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(upstreamTls))
                .setMaxConnTotal(maxConnections)
                .setMaxConnPerRoute(maxConnections)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setValidateAfterInactivity(VALIDATE_AFTER_INACTIVITY).build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(new FreshConnections(pool))
                .setRoutePlanner(new DefaultRoutePlanner(DefaultSchemePortResolver.INSTANCE) {
                    @Override
                    protected HttpHost determineProxy(HttpHost target, HttpContext context) {
                        return (HttpHost) context.getAttribute(PROXY_ATTRIBUTE);
                    }
                })
                .disableRedirectHandling()
                .disableContentCompression()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .build();
    }

    /** Whether a method is idempotent (RFC 9110 9.2.2): sending it twice means what sending it once does. */
    static boolean isIdempotent(String method) {
        return IDEMPOTENT.contains(method);
    }

    /**
     * Sends the request; the caller reads and closes the response. A request that failed on a reused pooled
     * connection the upstream proxy had closed is sent once more on a fresh connection to the same proxy.
     * {@code readTimeout} bounds every wait for bytes, the response head's and then each of the body's: past it the
     * exchange fails with a {@link SocketTimeoutException}, while sending or while the caller reads the body.
     *
     * @param headers request headers already filtered for forwarding
     * @param body the request body, empty for none
     * @throws IOException when the upstream proxy or the site cannot be reached or time out
     */
    ClassicHttpResponse send(String method, URI target, List<Map.Entry<String, String>> headers, byte[] body,
                             String contentType, ProxyAddress proxy, Duration connectTimeout, Duration readTimeout)
            throws IOException {
        TrackedBody tracked = body.length == 0 ? null : new TrackedBody(body, contentType);
        HttpClientContext context = context(proxy, target, connectTimeout);
        try {
            return exchange(request(method, target, headers, tracked, proxy), context, readTimeout);
        } catch (IOException e) {
            boolean reused = context.getAttribute(DIALLED_ATTRIBUTE) == null;
            if (!retriableOnFreshConnection(e, reused, isIdempotent(method), tracked == null || tracked.started)) {
                throw e;
            }
        }
        onStaleRetry.run();
        HttpClientContext fresh = context(proxy, target, connectTimeout);
        fresh.setUserToken(FRESH_CONNECTION);
        TrackedBody again = body.length == 0 ? null : new TrackedBody(body, contentType);
        return exchange(request(method, target, headers, again, proxy), fresh, readTimeout);
    }

    /** One exchange under a read deadline; the deadline follows the body until it is read whole or closed. */
    private ClassicHttpResponse exchange(HttpUriRequestBase request, HttpClientContext context, Duration readTimeout)
            throws IOException {
        ReadDeadlines.Watch watch = deadlines.watch(readTimeout, request); // cancelling closes the connection
        context.setAttribute(WATCH_ATTRIBUTE, watch);
        ClassicHttpResponse response;
        try {
            response = client.executeOpen(null, request, context);
        } catch (IOException e) {
            throw watch.failed(e);
        }
        HttpEntity entity = response.getEntity();
        if (entity == null) {
            watch.done();
        } else {
            response.setEntity(new WatchedEntity(entity, watch));
        }
        return response;
    }

    /**
     * Whether a request that failed before its response head arrived may be sent again, once, on a fresh connection
     * to the same upstream proxy. This is how HttpClient 4, Jetty's and OkHttp's clients treat a stale pooled
     * connection: proxies close kept-alive connections without notice (tinyproxy right after each answer, others
     * after an idle timeout), and the pool only finds out by using one. So only a <em>reused</em> connection that
     * <em>died</em> (closed or reset) qualifies; a timeout, a refused dial or a TLS failure says something about the
     * proxy or the site and is the caller's to count. An idempotent request may always go again. Any other only when
     * the proxy cannot have acted on it: it closed cleanly without a byte of answer (it had dropped the idle
     * connection before our request reached it), or the first byte of its body was never handed to the connection
     * (the request never arrived whole).
     *
     * @param reused the failed exchange used a pooled connection rather than dialling one
     * @param bodyStarted writing the body had begun; true for a request without one (its head is all of it)
     */
    static boolean retriableOnFreshConnection(IOException failure, boolean reused, boolean idempotent,
                                              boolean bodyStarted) {
        if (!reused || failure instanceof InterruptedIOException || failure instanceof SSLException
                || failure instanceof ConnectException) {
            return false;
        }
        boolean cleanClose = failure instanceof NoHttpResponseException;
        boolean died = cleanClose || failure instanceof ConnectionClosedException || failure instanceof SocketException;
        return died && (idempotent || cleanClose || !bodyStarted);
    }

    private static HttpClientContext context(ProxyAddress proxy, URI target, Duration connectTimeout) {
        HttpClientContext context = HttpClientContext.create();
        context.setAttribute(PROXY_ATTRIBUTE, proxy.host());
        if (proxy.hasCredentials() && !"http".equalsIgnoreCase(target.getScheme())) {
            // the tunnel's CONNECT answers a 407 with them (plain requests carry them preemptively)
            BasicCredentialsProvider credentials = new BasicCredentialsProvider();
            credentials.setCredentials(new AuthScope(proxy.host()),
                    new UsernamePasswordCredentials(proxy.user(), proxy.password().toCharArray()));
            context.setCredentialsProvider(credentials);
        }
        context.setRequestConfig(RequestConfig.custom()
                .setConnectTimeout(Timeout.of(connectTimeout))
                .setResponseTimeout(Timeout.DISABLED) // ReadDeadlines: a timed socket read costs a timer per read
                .setConnectionRequestTimeout(Timeout.of(connectTimeout))
                .build());
        return context;
    }

    /** A cancellable request: cancelling it closes the connection it is on. */
    private static HttpUriRequestBase request(String method, URI target, List<Map.Entry<String, String>> headers,
                                              TrackedBody body, ProxyAddress proxy) {
        HttpUriRequestBase r = new HttpUriRequestBase(method, target);
        headers.forEach(h -> r.addHeader(h.getKey(), h.getValue()));
        if (body != null) {
            r.setEntity(body);
        }
        if (proxy.hasCredentials() && "http".equalsIgnoreCase(target.getScheme())) {
            // preemptive, saving a 407 round trip per request
            r.addHeader("Proxy-Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (proxy.user() + ":" + proxy.password()).getBytes(StandardCharsets.UTF_8)));
        }
        return r;
    }

    /** A response body read under its exchange's read deadline: each read that brings bytes pushes it on. */
    private static final class WatchedEntity extends HttpEntityWrapper {
        private final ReadDeadlines.Watch watch;

        WatchedEntity(HttpEntity body, ReadDeadlines.Watch watch) {
            super(body);
            this.watch = watch;
        }

        @Override
        public InputStream getContent() throws IOException {
            return new FilterInputStream(super.getContent()) {
                @Override
                public int read() throws IOException {
                    try {
                        int b = super.read();
                        arrived(b < 0 ? -1 : 1);
                        return b;
                    } catch (IOException e) {
                        throw watch.failed(e);
                    }
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    try {
                        int n = super.read(b, off, len);
                        arrived(n);
                        return n;
                    } catch (IOException e) {
                        throw watch.failed(e);
                    }
                }

                private void arrived(int n) {
                    if (n > 0) {
                        watch.progressed();
                    } else if (n < 0) {
                        watch.done();
                    }
                }

                @Override
                public void close() throws IOException {
                    watch.done();
                    try {
                        super.close();
                    } catch (IOException e) {
                        throw watch.failed(e);
                    }
                }
            };
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            try (InputStream in = getContent()) {
                in.transferTo(out);
            }
        }

        @Override
        public void close() throws IOException {
            watch.done();
            super.close();
        }

    }

    /** A request body that records whether writing it to the connection had begun. */
    private static final class TrackedBody extends HttpEntityWrapper {
        volatile boolean started;

        TrackedBody(byte[] body, String contentType) {
            super(new ByteArrayEntity(body, contentType == null ? null : ContentType.parse(contentType)));
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            started = true;
            super.writeTo(out);
        }
    }

    /**
     * The pool as the client sees it: marks an exchange that dials (so a failure can tell a reused connection from a
     * new one), and gives an exchange carrying {@link #FRESH_CONNECTION} a new connection: pooled ones it leases to
     * that route are closed, as the proxy just dropped one of them and the others are as old. The token never
     * reaches the pool, so connections stay shared by every exchange.
     */
    private static final class FreshConnections implements HttpClientConnectionManager {
        private final HttpClientConnectionManager pool;

        FreshConnections(HttpClientConnectionManager pool) {
            this.pool = pool;
        }

        @Override
        public LeaseRequest lease(String id, HttpRoute route, Timeout requestTimeout, Object state) {
            if (state != FRESH_CONNECTION) {
                return pool.lease(id, route, requestTimeout, state);
            }
            return new LeaseRequest() {
                private volatile LeaseRequest current = pool.lease(id, route, requestTimeout, null);

                @Override
                public ConnectionEndpoint get(Timeout timeout)
                        throws InterruptedException, ExecutionException, TimeoutException {
                    while (true) {
                        ConnectionEndpoint endpoint = current.get(timeout);
                        if (!endpoint.isConnected()) {
                            return endpoint;
                        }
                        endpoint.close(CloseMode.IMMEDIATE);
                        pool.release(endpoint, null, TimeValue.ZERO_MILLISECONDS);
                        current = pool.lease(id, route, requestTimeout, null);
                    }
                }

                @Override
                public boolean cancel() {
                    return current.cancel();
                }
            };
        }

        @Override
        public void release(ConnectionEndpoint endpoint, Object newState, TimeValue validDuration) {
            pool.release(endpoint, newState == FRESH_CONNECTION ? null : newState, validDuration);
        }

        @Override
        public void connect(ConnectionEndpoint endpoint, TimeValue timeout, HttpContext context) throws IOException {
            context.setAttribute(DIALLED_ATTRIBUTE, Boolean.TRUE);
            ReadDeadlines.Watch watch = (ReadDeadlines.Watch) context.getAttribute(WATCH_ATTRIBUTE);
            if (watch != null) {
                watch.pause();
            }
            try {
                pool.connect(endpoint, timeout, context);
            } finally {
                if (watch != null) {
                    watch.progressed();
                }
            }
        }

        @Override
        public void upgrade(ConnectionEndpoint endpoint, HttpContext context) throws IOException {
            pool.upgrade(endpoint, context);
        }

        @Override
        public void close(CloseMode closeMode) {
            pool.close(closeMode);
        }

        @Override
        public void close() throws IOException {
            pool.close();
        }
    }

    @Override
    public void close() throws IOException {
        deadlines.close();
        client.close();
        pool.close();
    }
}
