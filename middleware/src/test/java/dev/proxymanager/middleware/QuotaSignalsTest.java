package dev.proxymanager.middleware;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.quota.QuotaHeaders;
import dev.proxymanager.middleware.rotation.SecretStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine steered by the quota an upstream reports: a loopback API that enforces its own per-key quota (fixed
 * one-second windows on the test's clock), reports it in each header style, and has part of a key's quota consumed
 * "from outside" (another program using the key). Time is the fake clock's, advanced by the test and the manager's
 * sleeper: no real waiting.
 */
class QuotaSignalsTest {

    private static final int KEYS = 4;
    private static final int QUOTA = 20;
    private static final int CALLS = 3000;
    private static final long SECOND = 1_000_000_000L;

    /** How the upstream reports its quota. */
    enum Style { GITHUB, IETF, RATELIMIT_FIELDS, MALFORMED }

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

    /** Per key: units used in the current window; 429 once the quota is used up. */
    private final class QuotaApi {
        final HttpServer server;
        final Style style;
        final Map<String, long[]> used = new HashMap<>(); // key -> {window, used}
        int tooMany;
        int ok;
        /** When set, sent as {@code X-Points-Used} (a call's cost) on every response. */
        volatile String pointsUsed;

        QuotaApi(Style style) throws IOException {
            this.style = style;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        URI baseUrl() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        synchronized long[] window(String key) {
            long w = clock.nanoTime() / SECOND;
            long[] u = used.computeIfAbsent(key, k -> new long[]{w, 0});
            if (u[0] != w) {
                u[0] = w;
                u[1] = 0;
            }
            return u;
        }

        /** Another program uses the key: half of what is left goes. */
        synchronized void consumeFromOutside(String key) {
            long[] u = window(key);
            u[1] += (QUOTA - u[1]) / 2;
        }

        void handle(HttpExchange ex) throws IOException {
            String key = ex.getRequestHeaders().getFirst("Authorization").substring("Bearer ".length());
            int status;
            long remaining;
            long now = clock.nanoTime();
            long resetAt;
            synchronized (this) {
                long[] u = window(key);
                resetAt = (u[0] + 1) * SECOND;
                if (u[1] >= QUOTA) {
                    status = 429;
                    tooMany++;
                } else {
                    u[1]++;
                    status = 200;
                    ok++;
                }
                remaining = QUOTA - u[1];
            }
            long secondsLeft = (resetAt - now + SECOND - 1) / SECOND;
            var h = ex.getResponseHeaders();
            switch (style) {
                case GITHUB -> {
                    h.add("X-RateLimit-Limit", String.valueOf(QUOTA));
                    h.add("X-RateLimit-Remaining", String.valueOf(remaining));
                    h.add("X-RateLimit-Reset", String.valueOf(resetAt / SECOND));
                }
                case IETF -> {
                    h.add("RateLimit-Policy", "\"second\";q=" + QUOTA + ";w=1");
                    h.add("RateLimit", "\"second\";r=" + remaining + ";t=" + secondsLeft);
                }
                case RATELIMIT_FIELDS -> {
                    h.add("RateLimit-Limit", String.valueOf(QUOTA));
                    h.add("RateLimit-Remaining", String.valueOf(remaining));
                    h.add("RateLimit-Reset", String.valueOf(secondsLeft));
                }
                case MALFORMED -> {
                    h.add("X-RateLimit-Remaining", "plenty");
                    h.add("RateLimit", "\"second\";r=;t=1");
                }
            }
            if (pointsUsed != null) {
                h.add("X-Points-Used", pointsUsed);
            }
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        }
    }

    private void start(Style style, QuotaHeaders headers) throws IOException {
        start(style, EndpointConfig.builder("api", SecretType.KEY).withQuotaHeaders(headers));
    }

    private void start(Style style, EndpointConfig.Builder b) throws IOException {
        api = new QuotaApi(style);
        b.withBaseUrl(api.baseUrl());
        for (int i = 1; i <= KEYS; i++) {
            b.withSecret("k" + i, "quota-key-value-" + i);
        }
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock)
                .sleeper(clock::advance).maxWait(Duration.ofMinutes(1)).build();
    }

    /** CALLS calls, 10 ms apart (100/s against 80/s of quota), key 1 partly used from outside every 250 ms. */
    private void run() throws IOException {
        for (int i = 0; i < CALLS; i++) {
            if (i % 25 == 0) {
                api.consumeFromOutside("quota-key-value-1");
            }
            try (Request req = pm.request(SecretType.KEY, "api", false)) {
                req.send("GET", api.baseUrl() + "/items", null, null);
            } catch (NoSecretAvailableException e) {
                // every key at its reported quota beyond the manager's wait: not an upstream 429
            }
            clock.advance(Duration.ofMillis(10));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Style.class, names = {"GITHUB", "IETF", "RATELIMIT_FIELDS"})
    void withSignalsOnTheUpstreamNeverAnswers429(Style style) throws IOException {
        start(style, QuotaHeaders.AUTO);

        run();

        assertThat(api.tooMany).as("429s from the upstream").isZero();
        assertThat(api.ok).as("calls served").isGreaterThan(CALLS * 3 / 4);
        assertThat(pm.engine().malformedQuotaHeaders("api")).isZero();
    }

    @Test
    void withSignalsOffTheSameRunGets429s() throws IOException {
        start(Style.GITHUB, QuotaHeaders.OFF);

        run();

        assertThat(api.tooMany).as("429s from the upstream").isGreaterThan(100);
    }

    @Test
    void malformedHeadersAreIgnoredAndCounted() throws IOException {
        start(Style.MALFORMED, QuotaHeaders.AUTO);

        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            assertThat(req.send("GET", api.baseUrl() + "/items", null, null).status()).isEqualTo(200);
        }

        assertThat(pm.engine().malformedQuotaHeaders("api")).isEqualTo(2);
    }

    @Test
    void statsShowTheReportedQuotaBesideOurCounts() throws IOException {
        start(Style.IETF, QuotaHeaders.AUTO);

        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            req.send("GET", api.baseUrl() + "/items", null, null);
        }

        SecretStats used = pm.stats("api").stream().filter(s -> s.totalUses() == 1).findFirst().orElseThrow();
        assertThat(used.upstream()).isEqualTo(new SecretStats.UpstreamQuotaView("second", QUOTA, QUOTA - 1,
                Instant.parse("2026-12-05T00:00:01Z"), Instant.parse("2026-12-05T00:00:00Z")));
    }

    @Test
    void theRequestLogDocumentOfAnAttemptCarriesTheQuotaItsResponseReported() throws IOException {
        api = new QuotaApi(Style.IETF);
        dev.proxymanager.middleware.log.InMemoryRequestLog log = new dev.proxymanager.middleware.log.InMemoryRequestLog();
        EndpointConfig.Builder b = EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(api.baseUrl())
                .withSecret("k1", "quota-key-value-1");
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock).sleeper(clock::advance)
                .requestLog(log).build();

        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            req.send("GET", api.baseUrl() + "/items", null, null);
        }

        assertThat(log.entries()).singleElement().satisfies(e -> {
            assertThat(e.upstreamRemaining()).isEqualTo(QUOTA - 1L);
            assertThat(e.upstreamLimit()).isEqualTo((long) QUOTA);
            assertThat(e.upstreamReset()).isEqualTo(Instant.parse("2026-12-05T00:00:01Z"));
        });
    }

    @Test
    void aCostLearnedFromTheResponseHeaderIsDebited() throws IOException {
        // given one hour windows of 10 uses per key, and responses saying each call cost 4 points
        start(Style.IETF, EndpointConfig.builder("api", SecretType.KEY).withCostHeader("X-Points-Used")
                .withLimit(dev.proxymanager.middleware.config.LimitConfig.of(10, Duration.ofHours(1))));
        api.pointsUsed = "4";

        // when one call is made
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            req.send("GET", api.baseUrl() + "/graphql", null, null);
        }

        // then its key counts 4 uses in the window, not 1
        SecretStats used = pm.stats("api").stream().filter(s -> s.totalUses() > 0).findFirst().orElseThrow();
        assertThat(used.windows().get(0).uses()).isEqualTo(4);

        // and a malformed cost is ignored and counted
        api.pointsUsed = "four";
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            assertThat(req.send("GET", api.baseUrl() + "/graphql", null, null).status()).isEqualTo(200);
        }
        assertThat(pm.engine().malformedQuotaHeaders("api")).isEqualTo(1);
        assertThat(pm.stats("api").stream().mapToLong(SecretStats::totalUses).sum()).isEqualTo(5);
    }

    /**
     * Eight callers at once: the remaining each report gives must be shared with the calls still in flight, and
     * reports come back out of order (42 and 5 429s in a run without subtracting the calls in flight). Nothing is
     * consumed from outside here: what another program takes while our calls are in flight no report can tell.
     */
    @ParameterizedTest
    @EnumSource(value = Style.class, names = {"GITHUB", "IETF"})
    void concurrentCallersGetNo429WithSignalsOn(Style style) throws Exception {
        start(style, QuotaHeaders.AUTO);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(pool.submit(() -> {
                    int i;
                    while ((i = calls.getAndIncrement()) < CALLS) {
                        try (Request req = pm.request(SecretType.KEY, "api", false)) {
                            req.send("GET", api.baseUrl() + "/items", null, null);
                        } catch (NoSecretAvailableException e) {
                            // every key held back beyond the manager's wait: not an upstream 429
                        }
                        if (i % 8 == 0) {
                            clock.advance(Duration.ofMillis(10));
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(api.tooMany).as("429s from the upstream").isZero();
        assertThat(api.ok).as("calls served").isGreaterThan(CALLS / 2);
    }
}
