package dev.proxymanager.middleware.transport;

import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The transport calls an exchange's {@link UseRestamp} once per write, before the request leaves. */
class RestampBeforeWriteTest {

    private HttpServer upstream;
    private final AtomicInteger received = new AtomicInteger();
    private final HttpTransport transport = HttpTransport.builder().build();
    private EndpointConfig endpoint;
    private final SecretLease lease = new SecretLease("api", SecretType.KEY, "k1", "k…1", "key-value-1", "lease-1",
            0, Long.MAX_VALUE);

    @BeforeEach
    void start() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        upstream.createContext("/", exchange -> {
            received.incrementAndGet();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        upstream.start();
        endpoint = EndpointConfig.builder("api", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:" + upstream.getAddress().getPort()))
                .withSecret("k1", "key-value-1").build();
    }

    @AfterEach
    void stop() {
        transport.close();
        upstream.stop(0);
    }

    private TransportRequest get() {
        return new TransportRequest("GET", URI.create(endpoint.baseUrl() + "/x"), HttpHeaders.empty(), null, null);
    }

    @Test
    void restampRunsOncePerExchangeBeforeTheRequestReachesTheUpstream() throws IOException {
        List<Integer> receivedAtRestamp = new ArrayList<>();

        for (int i = 0; i < 3; i++) {
            transport.execute(get(), lease, endpoint, Duration.ofSeconds(5), () -> receivedAtRestamp.add(received.get()));
        }

        assertThat(receivedAtRestamp).containsExactly(0, 1, 2);
        assertThat(received).hasValue(3);
    }

    @Test
    void aRestampThatRefusesKeepsTheRequestFromBeingSent() {
        assertThatThrownBy(() -> transport.execute(get(), lease, endpoint, Duration.ofSeconds(5), () -> {
            throw new IOException("over the limit until later");
        })).isInstanceOf(IOException.class).hasMessage("over the limit until later");
        assertThat(received).hasValue(0);
    }
}
