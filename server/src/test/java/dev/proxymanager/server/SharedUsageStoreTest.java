package dev.proxymanager.server;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.config.ServerConfig;
import dev.proxymanager.server.config.ServerConfigLoader;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SharedUsageStoreTest {

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void redisUrlSharesUsageAndReadinessReportsTheStoreDegradedButServingWhenItGoesDown() throws Exception {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            // given the demo, with REDIS_URL set as the Kubernetes manifests do, and no Elasticsearch
            Map<String, String> env = Map.of("REDIS_URL", redis.uri());
            ServerConfig config = ServerConfigLoader.load(null, env, Map.of("port", "0", "host", "127.0.0.1")).toBuilder()
                    .withElasticsearchEnabled(false).build();
            try (ServerApplication app = new ServerApplication(config, env, Clock.system()).start()) {
                int port = app.server().port();

                // when requests go through
                assertThat(get(port, "/proxy/demo-api/items/1").statusCode()).isEqualTo(200);

                // then the store is up and ready
                HttpResponse<String> ready = get(port, "/ready");
                assertThat(ready.statusCode()).isEqualTo(200);
                assertThat(ready.body()).contains("\"usage_store\" : \"up\"");

                // and when Redis goes away, the server keeps serving (fail-open) and reports degraded, still ready
                redis.stop();
                assertThat(get(port, "/proxy/demo-api/items/2").statusCode()).isEqualTo(200);
                await().atMost(Duration.ofSeconds(10)).until(() -> get(port, "/ready").body().contains("\"usage_store\" : \"degraded\""));
                assertThat(get(port, "/ready").statusCode()).isEqualTo(200);
                // and monitoring sees it
                assertThat(get(port, "/metrics").body())
                        .contains("proxy_backend_state{backend=\"usage_store\",state=\"degraded\"} 1.0")
                        .contains("proxy_backend_state{backend=\"usage_store\",state=\"up\"} 0.0")
                        .doesNotContain("backend=\"elasticsearch\"");
            }
        }
    }

    @Test
    void aUsageStoreScriptErrorFailsRequestsAndShowsInReadinessAndMetrics() throws Exception {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            // given the demo on a fail-open Redis store that has served a request
            Map<String, String> env = Map.of("REDIS_URL", redis.uri());
            ServerConfig config = ServerConfigLoader.load(null, env, Map.of("port", "0", "host", "127.0.0.1")).toBuilder()
                    .withElasticsearchEnabled(false).build();
            try (ServerApplication app = new ServerApplication(config, env, Clock.system()).start()) {
                int port = app.server().port();
                assertThat(get(port, "/proxy/demo-api/items/1").statusCode()).isEqualTo(200);

                // when the endpoint's keys in Redis break the store's script (WRONGTYPE), Redis itself being up
                RedisClient raw = RedisClient.create(redis.uri());
                try (StatefulRedisConnection<String, String> c = raw.connect()) {
                    for (String id : List.of("demo-key-1", "demo-key-2", "demo-key-3")) {
                        for (String kind : List.of("log", "st", "ls")) {
                            String key = "pm:{demo-api}:v1:" + id + ":" + kind;
                            c.sync().del(key);
                            c.sync().set(key, "not-a-usage-record");
                        }
                    }
                } finally {
                    raw.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                }

                // then requests fail instead of going out unchecked, /ready says the store is down, metrics count it
                assertThat(get(port, "/proxy/demo-api/items/2").statusCode()).isNotEqualTo(200);
                HttpResponse<String> ready = get(port, "/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("\"usage_store\" : \"down\"");
                assertThat(get(port, "/metrics").body())
                        .containsPattern("proxy_usage_store_errors_total(\\{[^}]*})? [1-9]")
                        .contains("proxy_backend_state{backend=\"usage_store\",state=\"down\"} 1.0");
            }
        }
    }

    @Test
    void readyShowsRedisBackWithinOneProbeIntervalAndOneCheckWithoutAnyTraffic() throws Exception {
        try (RedisTestServer redis = RedisTestServer.dedicated()) {
            // given a server on a fail-open Redis store that went down while serving
            Map<String, String> env = Map.of("REDIS_URL", redis.uri());
            ServerConfig config = ServerConfigLoader.load(null, env, Map.of("port", "0", "host", "127.0.0.1")).toBuilder()
                    .withElasticsearchEnabled(false).build();
            try (ServerApplication app = new ServerApplication(config, env, Clock.system()).start()) {
                int port = app.server().port();
                assertThat(get(port, "/proxy/demo-api/items/1").statusCode()).isEqualTo(200);
                redis.stop();
                assertThat(get(port, "/proxy/demo-api/items/2").statusCode()).isEqualTo(200);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> get(port, "/ready").body().contains("\"usage_store\" : \"degraded\""));

                // when Redis comes back and nothing but /ready is asked (every key cooling down sends no store calls)
                redis.start();
                long back = System.nanoTime();

                // then /ready shows it up within the documented bound: probe interval (1 s) + one check (PING, 1 s)
                await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                        .until(() -> get(port, "/ready").body().contains("\"usage_store\" : \"up\""));
                System.out.println("usage store back in /ready after " + (System.nanoTime() - back) / 1_000_000 + " ms");
            }
        }
    }
}
