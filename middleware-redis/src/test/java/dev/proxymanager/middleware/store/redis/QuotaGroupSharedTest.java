package dev.proxymanager.middleware.store.redis;

import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.NoSecretAvailableException;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.Request;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.QuotaGroup;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.store.UsageStores;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two managers (two processes' worth: each its own engine and Redis connection) share one Redis; keys k1 and k2 are
 * one account's. Counted at a loopback upstream: the account's limit holds for both together, each key's own too.
 */
class QuotaGroupSharedTest {

    private final FakeClock clock = new FakeClock();
    private final Map<String, Integer> served = new ConcurrentHashMap<>();
    private HttpServer upstream;

    @AfterEach
    void stop() {
        if (upstream != null) {
            upstream.stop(0);
        }
    }

    private URI startUpstream() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.createContext("/", ex -> {
            served.merge(ex.getRequestHeaders().getFirst("Authorization"), 1, Integer::sum);
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        upstream.start();
        return URI.create("http://127.0.0.1:" + upstream.getAddress().getPort());
    }

    private ProxyManager manager(SecretsConfig secrets, UsageStoreSettings settings) {
        return ProxyManager.builder().secrets(secrets).clock(clock).sleeper(clock::advance).maxWait(Duration.ZERO)
                .usageStore(UsageStores.create(settings, clock)).build();
    }

    @Test
    void anAccountsLimitHoldsForTwoProcessesTogether() throws IOException {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        URI base = startUpstream();
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), true,
                Duration.ofSeconds(60));
        EndpointConfig api = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(base)
                .withLimit(LimitConfig.of(10, Duration.ofMinutes(1)))
                .withSecret("k1", "account-key-value-1").withSecret("k2", "account-key-value-2")
                .withSecret("k3", "lone-key-value-3")
                .withGroup(new QuotaGroup("acct-1", List.of(LimitConfig.of(6, Duration.ofMinutes(1))),
                        List.of("k1", "k2")))
                .build();
        SecretsConfig secrets = new SecretsConfig(settings, Map.of("api", api));

        int refused = 0;
        try (ProxyManager a = manager(secrets, settings); ProxyManager b = manager(secrets, settings)) {
            for (int i = 0; i < 40; i++) {
                try (Request req = (i % 2 == 0 ? a : b).request(SecretType.KEY, "api", false)) {
                    req.send("GET", base + "/x", null, null);
                } catch (NoSecretAvailableException e) {
                    refused++;
                }
            }
            // and either process's stats show the account's window with both processes' uses
            assertThat(b.stats("api").get(0).group().windows().get(0).uses()).isEqualTo(6);
        }

        assertThat(served.getOrDefault("Bearer account-key-value-1", 0)
                + served.getOrDefault("Bearer account-key-value-2", 0)).isEqualTo(6);
        assertThat(served.get("Bearer lone-key-value-3")).isEqualTo(10);
        assertThat(refused).isEqualTo(24);
    }
}
