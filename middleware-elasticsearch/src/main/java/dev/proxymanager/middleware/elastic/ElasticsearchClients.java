package dev.proxymanager.middleware.elastic;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest5_client.low_level.Rest5Client;
import dev.proxymanager.middleware.config.SecretMasking;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.message.BasicHeader;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * Creates {@link ElasticsearchClient}s for the cache and the request log from a plain URL, with timeouts short
 * enough that an unreachable cluster degrades the cache to a bypass rather than stalling requests.
 *
 * <p>This class is threadsafe (stateless).
 */
public final class ElasticsearchClients {
    /** Default connect timeout: 2 seconds. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Default response timeout: 10 seconds. */
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(10);

    private ElasticsearchClients() {
    }

    /**
     * A client for {@code url} (e.g. {@code http://127.0.0.1:9200}) with the default timeouts and a Jackson mapper.
     *
     * @throws NullPointerException if {@code url} is null
     * @throws IllegalArgumentException if {@code url} is not an absolute http(s) URL
     */
    public static ElasticsearchClient create(String url) {
        return create(url, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT);
    }

    /**
     * A client for {@code url} with the given connect and response timeouts. Close it with {@link #close}.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code url} is not an absolute http(s) URL or a timeout is not positive
     */
    public static ElasticsearchClient create(String url, Duration connectTimeout, Duration responseTimeout) {
        return create(url, null, null, connectTimeout, responseTimeout);
    }

    /**
     * A client for {@code url} with the default timeouts that sends HTTP Basic credentials (Elasticsearch with
     * security on, as in compose), or none when both are null.
     *
     * @throws NullPointerException if {@code url} is null
     * @throws IllegalArgumentException if {@code url} is not an absolute http(s) URL, or only one of
     *                                  {@code username} and {@code password} is given
     */
    public static ElasticsearchClient create(String url, String username, String password) {
        return create(url, username, password, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT);
    }

    /**
     * A client for {@code url} with the given timeouts and HTTP Basic credentials (none when both are null).
     * Close it with {@link #close}.
     *
     * @throws NullPointerException if {@code url} or a timeout is null
     * @throws IllegalArgumentException if {@code url} is not an absolute http(s) URL, a timeout is not positive, or
     *                                  only one of {@code username} and {@code password} is given
     */
    public static ElasticsearchClient create(String url, String username, String password, Duration connectTimeout,
                                             Duration responseTimeout) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("elasticsearch url must be an absolute http(s) URL, was "
                    + withoutCredentials(url), e);
        }
        if (uri.getScheme() == null || !uri.getScheme().matches("(?i)https?") || uri.getHost() == null) {
            throw new IllegalArgumentException("elasticsearch url must be an absolute http(s) URL, was "
                    + withoutCredentials(url));
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()
                || responseTimeout.isNegative() || responseTimeout.isZero()) {
            throw new IllegalArgumentException("elasticsearch timeouts must be > 0, were connect=" + connectTimeout
                    + " response=" + responseTimeout);
        }
        Header[] headers = basicAuthorization(username, password).map(v -> new Header[] {
                new BasicHeader(HttpHeaders.AUTHORIZATION, v, true)}).orElse(new Header[0]);
        Rest5Client rest = Rest5Client.builder(uri)
                .setDefaultHeaders(headers)
                .setRequestConfigCallback(b -> b
                        .setConnectionRequestTimeout(Timeout.of(connectTimeout))
                        .setResponseTimeout(Timeout.of(responseTimeout)))
                .setConnectionConfigCallback(b -> b.setConnectTimeout(Timeout.of(connectTimeout)))
                // no Nagle delay for small requests (cache gets), and room to buffer a bulk body
                .setHttpClientConfigCallback(b -> b.setIOReactorConfig(IOReactorConfig.custom()
                        .setTcpNoDelay(true).setSndBufSize(1 << 20).build()))
                .build();
        return new ElasticsearchClient(new JoinedBodyTransport(rest, new JacksonJsonpMapper()));
    }

    /**
     * The {@code Authorization} value for {@code username} and {@code password}, or empty when both are null (or
     * blank): every client of Elasticsearch (cache, request log, dashboard, health probe) sends it from here.
     *
     * @throws IllegalArgumentException if only one of them is given (the message names neither value)
     */
    public static Optional<String> basicAuthorization(String username, String password) {
        boolean hasUser = username != null && !username.isBlank();
        boolean hasPassword = password != null && !password.isEmpty();
        if (hasUser != hasPassword) {
            throw new IllegalArgumentException("elasticsearch username and password go together: "
                    + (hasUser ? "the password" : "the username") + " is missing");
        }
        if (!hasUser) {
            return Optional.empty();
        }
        return Optional.of("Basic " + Base64.getEncoder().encodeToString(
                (username + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }

    private static String withoutCredentials(String url) {
        // a URL may carry user:password; never echo it
        return SecretMasking.USER_INFO.matcher(url).replaceAll("//");
    }

    /** Closes the client's transport and its connections. */
    public static void close(ElasticsearchClient client) {
        try {
            client._transport().close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the elasticsearch client failed", e);
        }
    }
}
