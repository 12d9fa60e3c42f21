package dev.proxymanager.server.http;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.transport.HttpTransport;
import dev.proxymanager.server.ForwardingServer;
import dev.proxymanager.server.forward.ProxyManagerForwarder;
import dev.proxymanager.server.limit.ConcurrencyLimiter;
import dev.proxymanager.server.metrics.ServerMetrics;
import dev.proxymanager.server.resilience.UpstreamBreakers;
import dev.proxymanager.server.security.TargetGuard;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The real server on a free loopback port, over a secrets.json text, with a fake clock for limits and breakers. */
final class ServerHarness implements AutoCloseable {
    static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    static final String FORWARDING_TOKEN = "test-forwarding-token-9876543210";

    final FakeClock clock = new FakeClock();
    final TargetGuard guard = new TargetGuard();
    final ConcurrencyLimiter limiter;
    final ServerMetrics metrics = new ServerMetrics(clock);
    final ForwardingServer server;
    final int port;
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ServerHarness(String secretsJson, int maxConcurrent, int maxQueue, int breakerThreshold, boolean protect) throws Exception {
        this(secretsJson, maxConcurrent, maxQueue, breakerThreshold, protect, SystemDefaultDnsResolver.INSTANCE, null,
                1024, 1024 * 1024);
    }

    /** With other body limits than the defaults of 1 KiB up and 1 MiB down. */
    ServerHarness(String secretsJson, int maxConcurrent, int maxQueue, int breakerThreshold, boolean protect,
                  long maxRequestBytes, long maxResponseBytes) throws Exception {
        this(secretsJson, maxConcurrent, maxQueue, breakerThreshold, protect, SystemDefaultDnsResolver.INSTANCE, null,
                maxRequestBytes, maxResponseBytes);
    }

    /** With connections closed after {@code idleSeconds} of silence outside a request, or of trickling headers. */
    ServerHarness(String secretsJson, int maxConcurrent, int maxQueue, int breakerThreshold, boolean protect,
                  int idleSeconds) throws Exception {
        this(secretsJson, maxConcurrent, maxQueue, breakerThreshold, protect, SystemDefaultDnsResolver.INSTANCE,
                Duration.ofSeconds(idleSeconds), 1024, 1024 * 1024);
    }

    /** With {@code dns} as the transport's name lookup (the target guard checks its answers). */
    ServerHarness(String secretsJson, int maxConcurrent, int maxQueue, int breakerThreshold, boolean protect,
                  DnsResolver dns) throws Exception {
        this(secretsJson, maxConcurrent, maxQueue, breakerThreshold, protect, dns, null, 1024, 1024 * 1024);
    }

    private ServerHarness(String secretsJson, int maxConcurrent, int maxQueue, int breakerThreshold, boolean protect,
                          DnsResolver dns, Duration connectionIdle, long maxRequestBytes, long maxResponseBytes)
            throws Exception {
        // connectionIdle null: the server's default
        SecretsConfig secrets = SecretsConfig.parse(secretsJson, Map.of());
        ProxyManagerForwarder forwarder = new ProxyManagerForwarder(ProxyManager.builder().secrets(secrets).clock(clock)
                .maxWait(Duration.ZERO).transport(HttpTransport.builder().withConnectGuard(guard).withDnsResolver(dns).build()).build());
        limiter = new ConcurrencyLimiter(maxConcurrent, maxQueue);
        UpstreamBreakers breakers = new UpstreamBreakers(breakerThreshold, Duration.ofSeconds(30), clock);
        Routes routes = Routes.builder(forwarder, limiter, breakers, metrics)
                .withAdminToken(ADMIN_TOKEN)
                .withForwardingToken(FORWARDING_TOKEN)
                .withTargetGuard(guard)
                .withProtectForwarding(protect)
                .withMaxQueueWait(Duration.ofMillis(200))
                .withMaxRequestBytes(maxRequestBytes)
                .withMaxResponseBytes(maxResponseBytes)
                .build();
        ForwardingServer s = new ForwardingServer("127.0.0.1", 0, routes, Duration.ofSeconds(10)).onStopped(forwarder);
        if (connectionIdle != null) {
            s.withConnectionIdleTimeout(connectionIdle).withRequestHeaderDeadline(connectionIdle);
        }
        server = s.start();
        port = server.port();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(15)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(15))
                .method(method, HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String keyEndpoint(String name, String baseUrl, String limits, String extra, String... keys) {
        StringBuilder secrets = new StringBuilder();
        for (int i = 0; i < keys.length; i++) {
            secrets.append(i == 0 ? "" : ",").append("{\"id\":\"key-").append(i + 1).append("\",\"value\":\"")
                    .append(keys[i]).append("\"}");
        }
        return "\"" + name + "\": {\"type\":\"key\",\"base_url\":\"" + baseUrl + "\",\"key\":{\"header\":\"Authorization\","
                + "\"format\":\"Bearer {key}\"},\"limits\":" + limits + ",\"health\":{\"ban_statuses\":[],\"ban_on_connection_error\":false},"
                + "\"retry\":{\"max_retries\":0,\"backoff_base\":\"1ms\",\"backoff_max\":\"2ms\"}" + extra
                + ",\"cache\":{\"enabled\":false},\"secrets\":[" + secrets + "]}";
    }

    @Override
    public void close() {
        server.stop();
        client.close();
    }
}
