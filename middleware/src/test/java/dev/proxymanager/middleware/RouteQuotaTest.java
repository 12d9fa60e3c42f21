package dev.proxymanager.middleware;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.RouteCost;
import dev.proxymanager.middleware.config.RouteMatch;
import dev.proxymanager.middleware.rotation.SecretStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Per-route buckets and weighted calls end to end, through the library against a loopback API that enforces its own
 * per-key quotas by arrival (exact sliding windows on the test's clock) and counts every call over them: every call
 * 60 units a minute, search calls 10 a minute, GraphQL 30 points a minute at 5 points a call. Time is the fake
 * clock's, advanced by the test and the manager's sleeper: no real waiting.
 */
class RouteQuotaTest {

    private static final int KEYS = 4;
    private static final int CALLS = 600;
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final RouteMatch SEARCH = new RouteMatch(List.of(), "/search/*");
    private static final RouteMatch GRAPHQL = new RouteMatch(List.of("POST"), "/graphql");

    private final FakeClock clock = new FakeClock(Instant.parse("2026-12-05T00:00:00Z"));
    private QuotaApi api;
    private ProxyManager pm;

    @AfterEach
    void close() {
        if (pm != null) {
            pm.close();
        }
        if (api != null) {
            api.server.stop(0);
        }
    }

    /** Per key and bucket, the arrival times of the units it took; a call over a bucket is refused and counted. */
    private final class QuotaApi {
        final HttpServer server;
        final Map<String, ArrayDeque<Long>> arrivals = new HashMap<>();
        int violations;
        int served;

        QuotaApi() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        URI baseUrl() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        /** Whether {@code units} more fit the bucket's window now; takes them when they do. */
        private boolean take(String bucket, int max, int units, long now) {
            ArrayDeque<Long> log = arrivals.computeIfAbsent(bucket, b -> new ArrayDeque<>());
            while (!log.isEmpty() && log.peekFirst() <= now - MINUTE.toNanos()) {
                log.pollFirst();
            }
            if (log.size() + units > max) {
                return false;
            }
            for (int i = 0; i < units; i++) {
                log.addLast(now);
            }
            return true;
        }

        void handle(HttpExchange ex) throws IOException {
            String key = ex.getRequestHeaders().getFirst("Authorization").substring("Bearer ".length());
            String path = ex.getRequestURI().getPath();
            boolean graphql = ex.getRequestMethod().equals("POST") && path.equals("/graphql");
            String declared = ex.getRequestHeaders().getFirst("X-Test-Cost");
            int units = declared != null ? Integer.parseInt(declared) : graphql ? 5 : 1;
            long now = clock.nanoTime();
            boolean ok;
            synchronized (this) {
                // all-or-nothing over the buckets the call counts in, like the upstream's own accounting
                Map<String, ArrayDeque<Long>> before = new HashMap<>();
                arrivals.forEach((b, log) -> before.put(b, new ArrayDeque<>(log)));
                ok = take(key + " core", 60, units, now)
                        && (!path.startsWith("/search/") || take(key + " search", 10, units, now))
                        && (!graphql || take(key + " graphql", 30, units, now));
                if (!ok) {
                    arrivals.clear();
                    arrivals.putAll(before);
                    violations++;
                } else {
                    served++;
                }
            }
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(ok ? 200 : 429, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        }
    }

    private void start(boolean routeBuckets) throws IOException {
        api = new QuotaApi();
        EndpointConfig.Builder b = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(api.baseUrl())
                .withLimitMargin(LimitMargin.NONE) // the fake clock does not move while a request is under way
                .withLimit(LimitConfig.of(60, MINUTE))
                .withCosts(List.of(new RouteCost(GRAPHQL, 5)))
                // a 429 would be retried on another key: count each one as the upstream saw it
                .withRetry(new dev.proxymanager.middleware.config.RetryPolicy(0, Duration.ZERO, Duration.ZERO, false));
        if (routeBuckets) {
            b.withLimit(LimitConfig.of(10, MINUTE).matching(SEARCH)).withLimit(LimitConfig.of(30, MINUTE)
                    .matching(GRAPHQL));
        }
        for (int i = 1; i <= KEYS; i++) {
            b.withSecret("k" + i, "route-key-value-" + i);
        }
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock)
                .sleeper(clock::advance).maxWait(Duration.ofMinutes(2)).build();
    }

    /** CALLS calls 50 ms apart: 4 in 10 searches, 2 GraphQL posts, 1 with a cost of 3 given, 3 plain. */
    private int run() throws IOException {
        int noSecret = 0;
        for (int i = 0; i < CALLS; i++) {
            try (Request req = pm.request(SecretType.KEY, "api", false)) {
                switch (i % 10) {
                    case 0, 3, 5, 8 -> req.send("GET", api.baseUrl() + "/search/code?q=" + i, null, null);
                    case 1, 6 -> req.send("POST", api.baseUrl() + "/graphql", Map.of("Content-Type",
                            "application/json"), null, "{\"query\":\"{ viewer { login } }\"}");
                    case 4 -> req.send("GET", api.baseUrl() + "/repos/a/b", Map.of("X-Test-Cost", "3"), null, null,
                            SendOptions.defaults().withCost(3));
                    default -> req.send("GET", api.baseUrl() + "/repos/a/b/issues", null, null);
                }
            } catch (NoSecretAvailableException e) {
                noSecret++;
            }
            clock.advance(Duration.ofMillis(50));
        }
        return noSecret;
    }

    @Test
    void callsMixingRoutesAndCostsStayWithinEveryQuotaTheUpstreamEnforces() throws IOException {
        start(true);

        int noSecret = run();

        assertThat(api.violations).as("calls over a quota at the upstream").isZero();
        assertThat(noSecret).as("calls not served within the wait").isZero();
        assertThat(api.served).isEqualTo(CALLS);
        SecretStats k1 = pm.stats("api").getFirst();
        assertThat(k1.routes()).extracting(SecretStats.RouteUsage::match)
                .containsExactly("* /search/*", "POST /graphql");
    }

    @Test
    void withoutTheRouteBucketsTheSameRunGoesOverTheSearchQuota() throws IOException {
        start(false);

        run();

        assertThat(api.violations).as("calls over a quota at the upstream").isGreaterThan(50);
    }
}
