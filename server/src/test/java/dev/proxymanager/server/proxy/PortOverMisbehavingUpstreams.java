package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.clock.SystemClock;
import dev.proxymanager.middleware.config.CidrBlock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A proxy port on real loopback sockets whose endpoint "pool" rotates round robin over {@link MisbehavingUpstreamProxy}
 * upstreams (secret ids {@code up-0}, {@code up-1}, ...), trusted loopback clients, and a JDK client set to use it.
 */
final class PortOverMisbehavingUpstreams implements AutoCloseable {

    final List<MisbehavingUpstreamProxy> upstreams = new ArrayList<>();
    final InMemoryRequestLog requestLog = new InMemoryRequestLog();
    final ProxyManager manager;
    final ForwardProxyServer server;
    final HttpClient client;

    PortOverMisbehavingUpstreams(Duration readTimeout, int maxRetries, MisbehavingUpstreamProxy.Misbehaviour... each)
            throws Exception {
        for (MisbehavingUpstreamProxy.Misbehaviour b : each) {
            upstreams.add(new MisbehavingUpstreamProxy(b));
        }
        String secrets = upstreams.stream().map(u -> "{\"id\":\"up-" + upstreams.indexOf(u) + "\",\"value\":\""
                + u.url() + "\"}").collect(Collectors.joining(","));
        String json = "{\"endpoints\":{\"pool\":{\"type\":\"proxy\",\"rotation\":\"round-robin\","
                + "\"allowed_targets\":[\"127.0.0.1\"],\"retry\":{\"max_retries\":" + maxRetries + "},"
                + "\"timeouts\":{\"connect\":\"2s\",\"read\":\"" + readTimeout.toMillis() + "ms\"},"
                + "\"secrets\":[" + secrets + "]}}}";
        manager = ProxyManager.builder().secrets(SecretsConfig.parse(json, Map.of()))
                .usageStore(new InMemoryUsageStore()).requestLog(requestLog).maxWait(Duration.ZERO).build();
        List<CidrBlock> loopback = List.of(CidrBlock.parse("127.0.0.0/8"));
        server = new ForwardProxyServer("127.0.0.1", new ForwardProxySettings(0, null, loopback, "pool",
                Duration.ofMinutes(10)), manager, SystemClock.INSTANCE, new SimpleMeterRegistry(),
                Duration.ofSeconds(30), 1024 * 1024, 8).start();
        client = HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", server.port())))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** Sends {@code method http://127.0.0.1:9/item} through the port, with {@code body} when not null. */
    HttpResponse<String> send(String method, String body) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:9/item"))
                .timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The engine's stats of upstream {@code index}. */
    SecretStats stats(int index) {
        return manager.engine().stats("pool").stream().filter(s -> s.secretId().equals("up-" + index))
                .findFirst().orElseThrow();
    }

    @Override
    public void close() throws Exception {
        server.close();
        manager.close();
        for (MisbehavingUpstreamProxy u : upstreams) {
            u.close();
        }
    }
}
