package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.lease.SecretLease;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * Sends requests with Apache HttpClient 5 (classic), applying a leased secret: an API key through
 * {@link KeyInjectionInterceptor}, a proxy through {@link SecretRoutePlanner}. Connections are pooled and kept
 * alive per route, so a proxy's connections are reused for that proxy. HttpClient retries only a request whose pooled
 * connection was found closed ({@link StaleConnectionRetry}); any other failed attempt is retried by the caller on
 * another secret. Redirects are followed and responses decompressed as HttpClient does by default; cookies are not
 * kept between exchanges.
 *
 * <p>Defaults: {@link #DEFAULT_MAX_CONNECTIONS} connections in all, {@link #DEFAULT_MAX_CONNECTIONS_PER_ROUTE} per
 * route, {@link #DEFAULT_CONNECTION_REQUEST_TIMEOUT} to lease a pooled connection.
 *
 * <p>This class is threadsafe.
 */
public final class HttpTransport implements Closeable {

    /** Default bound on pooled connections in all: 500. */
    public static final int DEFAULT_MAX_CONNECTIONS = 500;
    /** Default bound on pooled connections per route (target, or target through one proxy): 100. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_ROUTE = 100;
    /** Default wait for a free pooled connection: 60 s. */
    public static final Duration DEFAULT_CONNECTION_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private static final ConnectionConfig PROXY_CONNECTIONS = ConnectionConfig.custom()
            .setValidateAfterInactivity(TimeValue.ZERO_MILLISECONDS).build();

    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient client;
    private final Duration connectionRequestTimeout;

    private HttpTransport(Builder b) {
        PoolingHttpClientConnectionManagerBuilder poolBuilder = PoolingHttpClientConnectionManagerBuilder.create();
        if (b.sslContext != null) {
            poolBuilder.setTlsSocketStrategy(new DefaultClientTlsStrategy(b.sslContext));
        }
        poolBuilder.setDnsResolver(new GuardedDnsResolver(b.dnsResolver, b.connectGuard));
        this.pool = poolBuilder
                .setMaxConnTotal(b.maxConnections)
                .setMaxConnPerRoute(b.maxConnectionsPerRoute)
                // proxies close idle kept-alive connections without notice: check a proxy connection before reuse
                .setConnectionConfigResolver(route -> route.getProxyHost() != null ? PROXY_CONNECTIONS
                        : ConnectionConfig.DEFAULT)
                .build();
        this.connectionRequestTimeout = b.connectionRequestTimeout;
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
                .setRoutePlanner(new SecretRoutePlanner())
                .addExecInterceptorBefore(ChainElement.CONNECT.name(), OriginGuardExec.NAME,
                        new OriginGuardExec(b.connectGuard))
                .addRequestInterceptorLast(new KeyInjectionInterceptor())
                .addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "restamp", new RestampBeforeWrite())
                .setRetryStrategy(new StaleConnectionRetry())
                // one cookie store per client would hand cookies one caller's upstream set to every other caller of
                // the endpoint, under other secrets; a caller's own Cookie header is sent as given and Set-Cookie
                // comes back in the response
                .disableCookieManagement()
                // the per-connection user token matters for NTLM and client-certificate sessions shared between
                // users; here every exchange uses the transport's one TLS context, and a token stored on a
                // connection would keep the next exchange (fresh context, no token) from reusing it
                .disableConnectionState()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .build();
    }

    /** Starts a transport with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sends {@code request} with {@code lease}'s secret applied and reads the whole response.
     *
     * @param request the request, without the secret
     * @param lease the secret to apply (a key for a key endpoint, a proxy URL for a proxy endpoint)
     * @param endpoint the endpoint's configuration: key placement, allowed hosts, connect timeout
     * @param responseTimeout the longest wait for response data
     * @return the response, body read
     * @throws java.net.SocketTimeoutException if the response does not come in time
     * @throws java.net.ConnectException if the target or proxy cannot be reached
     * @throws IOException for any other transport failure
     */
    public CachedResponse execute(TransportRequest request, SecretLease lease, EndpointConfig endpoint,
                                  Duration responseTimeout) throws IOException {
        return execute(request, lease, endpoint, responseTimeout, null);
    }

    /**
     * As {@link #execute(TransportRequest, SecretLease, EndpointConfig, Duration)}, calling {@code restamp} (when not
     * null) just before each write of the request.
     */
    @SuppressWarnings("deprecation") // per-request connect timeout: the endpoint, not the route, decides it
    public CachedResponse execute(TransportRequest request, SecretLease lease, EndpointConfig endpoint,
                                  Duration responseTimeout, UseRestamp restamp) throws IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(endpoint, "endpoint");
        HttpUriRequestBase http = new HttpUriRequestBase(request.method(), request.uri());
        request.headers().fields().forEach(f -> http.addHeader(f.name(), f.value()));
        if (request.body() != null) {
            http.setEntity(new ByteArrayEntity(request.body(),
                    request.contentType() == null ? null : ContentType.parse(request.contentType())));
        }
        HttpClientContext context = HttpClientContext.create();
        SecretContext secret;
        if (lease.type() == SecretType.PROXY) {
            ProxyAddress proxy = ProxyAddress.parse(lease.value());
            secret = new SecretContext(endpoint, null, null, proxy);
            if (proxy.hasCredentials()) {
                BasicCredentialsProvider credentials = new BasicCredentialsProvider();
                credentials.setCredentials(new AuthScope(proxy.host()),
                        new UsernamePasswordCredentials(proxy.user(), proxy.password().toCharArray()));
                context.setCredentialsProvider(credentials);
            }
        } else {
            secret = new SecretContext(endpoint, endpoint.key(), lease.value(), null);
        }
        context.setAttribute(SecretContext.ATTRIBUTE, secret);
        if (restamp != null) {
            context.setAttribute(RestampBeforeWrite.ATTRIBUTE, restamp);
        }
        context.setRequestConfig(RequestConfig.custom()
                .setConnectTimeout(Timeout.of(endpoint.timeouts().connect()))
                .setResponseTimeout(Timeout.of(responseTimeout))
                .setConnectionRequestTimeout(Timeout.of(connectionRequestTimeout))
                .build());
        return client.execute(http, context, response -> {
            HttpHeaders.Builder headers = HttpHeaders.builder();
            for (Header h : response.getHeaders()) {
                headers.add(h.getName(), h.getValue());
            }
            HttpEntity entity = response.getEntity();
            ByteBuffer body = entity == null ? ByteBuffer.allocate(0) : readOnce(entity);
            String contentType = entity == null ? null : entity.getContentType();
            return CachedResponse.of(response.getCode(), headers.build(), body, contentType);
        });
    }

    /**
     * Reads a body into one buffer: of its declared length when known (no second copy, unlike
     * {@code EntityUtils.toByteArray}), else grown as it comes and handed over without trimming.
     */
    static ByteBuffer readOnce(HttpEntity entity) throws IOException {
        long declared = entity.getContentLength();
        if (declared > Integer.MAX_VALUE - 8) {
            throw new IOException("response body of " + declared + " bytes is too large to hold");
        }
        try (InputStream in = entity.getContent()) {
            if (in == null) {
                return ByteBuffer.allocate(0);
            }
            byte[] buf = new byte[declared >= 0 ? (int) declared : 8192];
            int n = 0;
            while (true) {
                if (n == buf.length) {
                    if (declared >= 0 && in.read() < 0) {
                        break; // exactly the declared length
                    }
                    if (declared >= 0) {
                        throw new IOException("response body longer than its Content-Length " + declared);
                    }
                    buf = java.util.Arrays.copyOf(buf, Math.max(8192, buf.length * 2));
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return ByteBuffer.wrap(buf, 0, n);
        }
    }

    /** Closes pooled connections at once. */
    @Override
    public void close() {
        client.close(CloseMode.IMMEDIATE);
    }

    /** Builds an {@link HttpTransport}. Not threadsafe. */
    public static final class Builder {
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int maxConnectionsPerRoute = DEFAULT_MAX_CONNECTIONS_PER_ROUTE;
        private Duration connectionRequestTimeout = DEFAULT_CONNECTION_REQUEST_TIMEOUT;
        private SSLContext sslContext;
        private ConnectGuard connectGuard = ConnectGuard.ALLOW_ALL;
        private DnsResolver dnsResolver = SystemDefaultDnsResolver.INSTANCE;

        private Builder() {
        }

        /**
         * Where exchanges may go, checked inside HttpClient on every request (redirects included) and on every
         * address it connects to; a refusal fails the exchange with {@link ForbiddenTargetException}. Default
         * {@link ConnectGuard#ALLOW_ALL}.
         */
        public Builder withConnectGuard(ConnectGuard guard) {
            this.connectGuard = Objects.requireNonNull(guard, "guard");
            return this;
        }

        /** How host names are resolved (the guard checks its answers); default the JVM's resolver. */
        public Builder withDnsResolver(DnsResolver resolver) {
            this.dnsResolver = Objects.requireNonNull(resolver, "resolver");
            return this;
        }

        /** The TLS context for HTTPS targets (trust store, client certificates); default the JVM's. */
        public Builder withSslContext(SSLContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /** Bound on pooled connections in all; default 500. */
        public Builder withMaxConnections(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("maxConnections must be > 0, was " + n);
            }
            this.maxConnections = n;
            return this;
        }

        /** Bound on pooled connections per route; default 100. */
        public Builder withMaxConnectionsPerRoute(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("maxConnectionsPerRoute must be > 0, was " + n);
            }
            this.maxConnectionsPerRoute = n;
            return this;
        }

        /** Longest wait for a free pooled connection; default 60 s. */
        public Builder withConnectionRequestTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connectionRequestTimeout must be > 0, was " + timeout);
            }
            this.connectionRequestTimeout = timeout;
            return this;
        }

        /** The transport; owns its connection pool. */
        public HttpTransport build() {
            return new HttpTransport(this);
        }
    }
}
