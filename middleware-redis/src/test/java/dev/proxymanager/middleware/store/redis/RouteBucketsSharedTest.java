package dev.proxymanager.middleware.store.redis;

import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.NoSecretAvailableException;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.Request;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.SendOptions;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import dev.proxymanager.middleware.rotation.SecretStats;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two managers (two processes' worth: each its own engine and Redis connection) share one Redis; each key allows 20
 * units a minute, its search calls 3 a minute on top. Counted at a loopback upstream: the search bucket holds for
 * both processes together while other calls on the same keys go on, and weighted calls count their units; the
 * upstream's report on a search call holds the bucket for both processes too.
 */
class RouteBucketsSharedTest {

    private final FakeClock clock = new FakeClock();
    /** Per key and kind of call ("search" or "other"): units the upstream served. */
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
            String kind = ex.getRequestURI().getPath().startsWith("/search/") ? "search" : "other";
            String cost = ex.getRequestHeaders().getFirst("X-Test-Cost");
            served.merge(ex.getRequestHeaders().getFirst("Authorization") + " " + kind,
                    cost == null ? 1 : Integer.parseInt(cost), Integer::sum);
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

    private int units(String key, String kind) {
        return served.getOrDefault("Bearer " + key + " " + kind, 0);
    }

    @Test
    void aSearchBucketHoldsForTwoProcessesTogetherWhileOtherCallsGoOn() throws IOException {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        URI base = startUpstream();
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), true,
                Duration.ofSeconds(60));
        EndpointConfig api = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(base)
                .withLimit(LimitConfig.of(20, Duration.ofMinutes(1)))
                .withLimit(LimitConfig.of(3, Duration.ofMinutes(1)).matching(new RouteMatch(List.of(), "/search/*")))
                .withSecret("k1", "route-key-value-1").withSecret("k2", "route-key-value-2")
                .build();
        SecretsConfig secrets = new SecretsConfig(settings, Map.of("api", api));

        int searchRefused = 0;
        try (ProxyManager a = manager(secrets, settings); ProxyManager b = manager(secrets, settings)) {
            for (int i = 0; i < 40; i++) {
                ProxyManager pm = i % 2 == 0 ? a : b;
                try (Request req = pm.request(SecretType.KEY, "api", false)) {
                    switch (i % 4) {
                        case 0, 1 -> req.send("GET", base + "/search/code?q=" + i, null, null);
                        case 2 -> req.send("GET", base + "/repos/x", null, null);
                        default -> {
                            if (i % 8 == 3) {
                                req.send("GET", base + "/repos/y", Map.of("X-Test-Cost", "3"), null, null,
                                        SendOptions.defaults().withCost(3));
                            } else {
                                req.send("GET", base + "/repos/z", null, null);
                            }
                        }
                    }
                } catch (NoSecretAvailableException e) {
                    searchRefused += i % 4 < 2 ? 1 : 0;
                    assertThat(i % 4).as("only search calls wait").isLessThan(2);
                }
            }
            // and either process's stats show each key's search bucket with both processes' uses
            List<SecretStats> stats = b.stats("api");
            assertThat(stats).allSatisfy(s -> assertThat(s.routes().getFirst().windows().getFirst().uses())
                    .isEqualTo(3));
        }

        assertThat(units("route-key-value-1", "search")).isEqualTo(3);
        assertThat(units("route-key-value-2", "search")).isEqualTo(3);
        assertThat(searchRefused).isEqualTo(20 - 6);
        // 15 plain calls and 5 of cost 3: 30 units, all served, with the 6 searches within 2 x 20
        assertThat(units("route-key-value-1", "other") + units("route-key-value-2", "other")).isEqualTo(30);
        assertThat(units("route-key-value-1", "search") + units("route-key-value-1", "other")).isLessThanOrEqualTo(20);
        assertThat(units("route-key-value-2", "search") + units("route-key-value-2", "other")).isLessThanOrEqualTo(20);
    }

    @Test
    void aSearchReportLearnedByOneProcessHoldsBackOnlyTheSearchCallsOfTheOther() throws IOException {
        // given an upstream answering search calls with its search quota used up until 10 minutes from now
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        long reset = clock.now().getEpochSecond() + 600;
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.createContext("/", ex -> {
            boolean search = ex.getRequestURI().getPath().startsWith("/search/");
            served.merge(search ? "search" : "other", 1, Integer::sum);
            if (search) {
                ex.getResponseHeaders().add("X-RateLimit-Limit", "30");
                ex.getResponseHeaders().add("X-RateLimit-Remaining", "0");
                ex.getResponseHeaders().add("X-RateLimit-Reset", String.valueOf(reset));
                ex.getResponseHeaders().add("X-RateLimit-Resource", "search");
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        upstream.start();
        String base = "http://127.0.0.1:" + upstream.getAddress().getPort();
        UsageStoreSettings settings = new UsageStoreSettings("redis", URI.create(redis.uri()), true,
                Duration.ofSeconds(60));
        EndpointConfig api = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(URI.create(base))
                .withLimit(LimitConfig.of(5000, Duration.ofHours(1)))
                .withLimit(LimitConfig.of(30, Duration.ofMinutes(1)).matching(new RouteMatch(List.of(), "/search/*")))
                .withSecret("k1", "route-key-value-1")
                .build();
        SecretsConfig secrets = new SecretsConfig(settings, Map.of("api", api));

        try (ProxyManager a = manager(secrets, settings); ProxyManager b = manager(secrets, settings)) {
            try (Request req = a.request(SecretType.KEY, "api", false)) {
                req.send("GET", base + "/search/code?q=1", null, null);
            }

            // then the other process, which never saw that answer, holds its search calls back and sends the others
            try (Request req = b.request(SecretType.KEY, "api", false)) {
                assertThatThrownBy(() -> req.send("GET", base + "/search/code?q=2", null, null))
                        .isInstanceOf(NoSecretAvailableException.class);
            }
            try (Request req = b.request(SecretType.KEY, "api", false)) {
                assertThat(req.send("GET", base + "/repos/x", null, null).status()).isEqualTo(200);
            }
            SecretStats.RouteUsage search = b.stats("api").getFirst().routes().getFirst();
            assertThat(search.upstream().remaining()).isZero();
            assertThat(search.upstream().limit()).isEqualTo(30);
            // on Redis's clock and back: within the offset's rounding
            assertThat(search.upstream().resetAt().getEpochSecond()).isBetween(reset - 1, reset);
            assertThat(b.stats("api").getFirst().upstream()).isNull();
        }
        assertThat(served).containsEntry("search", 1).containsEntry("other", 1);
    }
}
