package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.transport.ProxyAddress;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Sends one plain-HTTP request of the proxy port through a given upstream proxy, as a proxy must: no redirects
 * followed, no content decoded, no retries of its own (the caller retries on another proxy), no cookies. Connections
 * are pooled per upstream proxy. This class is threadsafe.
 */
final class PlainHttpClient implements AutoCloseable {

    private static final String PROXY_ATTRIBUTE = "proxy-manager.upstream-proxy";

    private final PoolingHttpClientConnectionManager pool;
    private final CloseableHttpClient client;

    /**
     * @param upstreamTls what TLS to sites trusts ({@link dev.proxymanager.server.proxy.tls.UpstreamTrust}); host
     *                    names are always verified
     */
    PlainHttpClient(int maxConnections, SSLContext upstreamTls) {
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(upstreamTls))
                .setMaxConnTotal(maxConnections)
                .setMaxConnPerRoute(maxConnections)
                // proxies close idle kept-alive connections without notice: check before reuse
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setValidateAfterInactivity(TimeValue.ZERO_MILLISECONDS).build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
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

    /**
     * Sends the request; the caller reads and closes the response.
     *
     * @param headers request headers already filtered for forwarding
     * @param body the request body, empty for none
     * @throws IOException when the upstream proxy or the site cannot be reached or time out
     */
    ClassicHttpResponse send(String method, URI target, List<Map.Entry<String, String>> headers, byte[] body,
                             String contentType, ProxyAddress proxy, Duration connectTimeout, Duration readTimeout)
            throws IOException {
        ClassicRequestBuilder b = ClassicRequestBuilder.create(method).setUri(target);
        headers.forEach(h -> b.addHeader(h.getKey(), h.getValue()));
        if (body.length > 0) {
            b.setEntity(new ByteArrayEntity(body, contentType == null ? null : ContentType.parse(contentType)));
        }
        HttpClientContext context = HttpClientContext.create();
        context.setAttribute(PROXY_ATTRIBUTE, proxy.host());
        if (proxy.hasCredentials()) {
            if ("http".equalsIgnoreCase(target.getScheme())) {
                // preemptive, saving a 407 round trip per request
                b.addHeader("Proxy-Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (proxy.user() + ":" + proxy.password()).getBytes(StandardCharsets.UTF_8)));
            } else {
                BasicCredentialsProvider credentials = new BasicCredentialsProvider();
                credentials.setCredentials(new AuthScope(proxy.host()),
                        new UsernamePasswordCredentials(proxy.user(), proxy.password().toCharArray()));
                context.setCredentialsProvider(credentials);
            }
        }
        context.setRequestConfig(RequestConfig.custom()
                .setConnectTimeout(Timeout.of(connectTimeout))
                .setResponseTimeout(Timeout.of(readTimeout))
                .setConnectionRequestTimeout(Timeout.of(connectTimeout))
                .build());
        return client.executeOpen(null, b.build(), context);
    }

    @Override
    public void close() throws IOException {
        client.close();
        pool.close();
    }
}
