package dev.proxymanager.middleware;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.RetryPolicy;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The upstream's quota reports kept per route bucket, through the library against a loopback API that counts like
 * GitHub: per key a core quota for every call (fixed hour windows) and a search quota for search calls (fixed minute
 * windows), each response reporting the quota of its own resource ({@code X-RateLimit-Resource}). The search quota
 * is far below our search bucket's limit (other programs use the keys' search quota too), so only the reports keep
 * search calls under it. Time is the fake clock's, advanced by the test and the manager's sleeper: no real waiting.
 */
class RouteUpstreamQuotaTest {

    private static final int KEYS = 2;
    private static final int CORE = 1000;
    private static final int SEARCH = 5;
    private static final int CALLS = 400;
    private static final long SECOND = 1_000_000_000L;
    private static final RouteMatch SEARCH_ROUTE = new RouteMatch(List.of("GET"), "/search/*");

    private final FakeClock clock = new FakeClock(Instant.parse("2026-12-05T00:00:00Z"));
    private GitHubLikeApi api;
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

    /** Per key and resource: units used in the current fixed window; 429 once a quota is used up. */
    private final class GitHubLikeApi {
        final HttpServer server;
        final Map<String, long[]> used = new HashMap<>(); // key + resource -> {window, used}
        int tooMany;

        GitHubLikeApi() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        URI baseUrl() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        void handle(HttpExchange ex) throws IOException {
            String key = ex.getRequestHeaders().getFirst("Authorization").substring("Bearer ".length());
            boolean search = ex.getRequestURI().getPath().startsWith("/search/");
            String resource = search ? "search" : "core";
            int quota = search ? SEARCH : CORE;
            long windowNanos = (search ? 60 : 3600) * SECOND;
            int status;
            long remaining;
            long resetAt;
            synchronized (this) {
                long w = clock.nanoTime() / windowNanos;
                long[] u = used.computeIfAbsent(key + " " + resource, k -> new long[] {w, 0});
                if (u[0] != w) {
                    u[0] = w;
                    u[1] = 0;
                }
                resetAt = (w + 1) * windowNanos;
                if (u[1] >= quota) {
                    status = 429;
                    tooMany++;
                } else {
                    u[1]++;
                    status = 200;
                }
                remaining = quota - u[1];
            }
            var h = ex.getResponseHeaders();
            h.add("X-RateLimit-Limit", String.valueOf(quota));
            h.add("X-RateLimit-Remaining", String.valueOf(remaining));
            h.add("X-RateLimit-Reset", String.valueOf(resetAt / SECOND));
            h.add("X-RateLimit-Resource", resource);
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        }
    }

    private void start(boolean searchBucket) throws IOException {
        start(searchBucket, KEYS);
    }

    private void start(boolean searchBucket, int keys) throws IOException {
        api = new GitHubLikeApi();
        EndpointConfig.Builder b = EndpointConfig.builder("github", SecretType.KEY).withBaseUrl(api.baseUrl())
                .withLimitMargin(LimitMargin.NONE) // the fake clock does not move while a request is under way
                .withLimit(LimitConfig.of(5000, Duration.ofHours(1)))
                // a 429 would be retried on another key: count each one as the upstream saw it
                .withRetry(new RetryPolicy(0, Duration.ZERO, Duration.ZERO, false));
        if (searchBucket) {
            b.withLimit(LimitConfig.of(30, Duration.ofMinutes(1)).matching(SEARCH_ROUTE));
        }
        for (int i = 1; i <= keys; i++) {
            b.withSecret("k" + i, "github-token-value-" + i);
        }
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock)
                .sleeper(clock::advance).maxWait(Duration.ofMinutes(2)).build();
    }

    /** What a run saw: calls that waited for a key, by kind, and calls not served. */
    private record Run(int coreWaits, int searchWaits, int noSecret) {
    }

    /** CALLS calls 50 ms apart, one in four a search. */
    private Run run() throws IOException {
        int coreWaits = 0;
        int searchWaits = 0;
        int noSecret = 0;
        for (int i = 0; i < CALLS; i++) {
            boolean search = i % 4 == 0;
            long before = clock.nanoTime();
            try (Request req = pm.request(SecretType.KEY, "github", false)) {
                req.send("GET", api.baseUrl() + (search ? "/search/code?q=" + i : "/repos/o/r"), null, null);
            } catch (NoSecretAvailableException e) {
                noSecret++;
            }
            if (clock.nanoTime() != before) { // only the manager's sleeper moves the clock during a call
                if (search) {
                    searchWaits++;
                } else {
                    coreWaits++;
                }
            }
            clock.advance(Duration.ofMillis(50));
        }
        return new Run(coreWaits, searchWaits, noSecret);
    }

    @Test
    void searchQuotaUsedUpHoldsBackOnlySearchCallsWhileCoreCallsGoOn() throws IOException {
        start(true);

        Run run = run();

        assertThat(api.tooMany).as("429s from the upstream").isZero();
        assertThat(run.searchWaits()).as("search calls that waited for the search reset").isGreaterThan(0);
        assertThat(run.coreWaits()).as("core calls that waited").isZero();
        assertThat(run.noSecret()).isZero();
    }

    @Test
    void withoutARouteBucketTheSearchReportIsTheKeysAndHoldsBackEveryCall() throws IOException {
        start(false);

        Run run = run();

        assertThat(api.tooMany).as("429s from the upstream").isZero();
        assertThat(run.coreWaits()).as("core calls that waited for the search reset").isGreaterThan(0);
    }

    @Test
    void statsShowTheSearchBucketsReportBesideItsWindowsAndTheKeysOwn() throws IOException {
        start(true, 1);
        try (Request req = pm.request(SecretType.KEY, "github", false)) {
            req.send("GET", api.baseUrl() + "/search/code?q=x", null, null);
        }

        SecretStats k1 = pm.stats("github").getFirst();
        assertThat(k1.upstream()).as("no core call yet").isNull();
        SecretStats.RouteUsage search = k1.routes().getFirst();
        assertThat(search.match()).isEqualTo("GET /search/*");
        assertThat(search.windows().getFirst().uses()).isEqualTo(1);
        assertThat(search.upstream().limit()).isEqualTo(SEARCH);
        assertThat(search.upstream().remaining()).isEqualTo(SEARCH - 1);
        assertThat(search.upstream().resetAt()).isEqualTo(Instant.parse("2026-12-05T00:01:00Z"));

        try (Request req = pm.request(SecretType.KEY, "github", false)) {
            req.send("GET", api.baseUrl() + "/repos/o/r", null, null);
        }
        k1 = pm.stats("github").getFirst();
        assertThat(k1.upstream().remaining()).isEqualTo(CORE - 1);
        // the core call counted in no bucket: the search report is unchanged
        assertThat(k1.routes().getFirst().upstream().remaining()).isEqualTo(SEARCH - 1);
    }
}
