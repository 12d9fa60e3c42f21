package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.config.RouteMatch;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** {@link Request} against a real key-checking, rate-limited API on loopback. */
class RequestKeyTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private UpstreamServer upstream;
    @AutoClose
    private ProxyManager pm;

    private static String keyValue(int i) {
        return "secret-key-value-" + i;
    }

    /** An upstream with keys 1..n allowed {@code limit} requests each, and a manager configured the same. */
    private void start(int keys, int limit, EndpointConfig.Builder tweak) throws IOException {
        Map<String, Integer> limits = new LinkedHashMap<>();
        for (int i = 1; i <= keys; i++) {
            limits.put(keyValue(i), limit);
        }
        upstream = UpstreamServer.withKeys(limits);
        EndpointConfig.Builder b = tweak.withBaseUrl(upstream.baseUrl())
                .withLimit(LimitConfig.of(limit, Duration.ofHours(1)));
        for (int i = 1; i <= keys; i++) {
            b.withSecret("k" + i, keyValue(i));
        }
        pm = ProxyManager.builder().secrets(TestEndpoints.config(b.build())).clock(clock)
                .sleeper(clock::advance).maxWait(Duration.ofMinutes(1)).build();
    }

    private static EndpointConfig.Builder api() {
        return EndpointConfig.builder("api", SecretType.KEY);
    }

    @Test
    void sendPlacesTheKeyInItsHeaderAndUsesTheSecretGetKeyProxyNamed() throws IOException {
        // given
        start(3, 100, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            String key = req.getKeyProxy();
            Response r = req.send("GET", upstream.url("/rate_limit"), new HashMap<>(), null);

            // then
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).contains("\"key\":\"" + key + "\"");
            assertThat(r.header("Content-Type")).startsWith("application/json");
            assertThat(keyValue(Integer.parseInt(r.secretId().substring(1)))).isEqualTo(key);
            assertThat(r.fromCache()).isFalse();
            assertThat(r.toString()).doesNotContain(key);
        }
    }

    @Test
    void keyGoesInItsQueryParameterWhenTheEndpointSaysSo() throws IOException {
        // given
        start(1, 100, api().withKey(KeyPlacement.query("api_key")));
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            Response r = req.send("GET", upstream.url("/search"), null, Map.of("q", "java"), null);

            // then
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).contains("api_key=" + keyValue(1)).contains("q=java");
        }
    }

    @Test
    void fiveRequestsUseKeyAThenANewRequestGetsKeyBOnceAsLimitIsUsed() throws IOException {
        // given two keys allowed five requests an hour each
        start(2, 5, api());
        String a;
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            a = req.getKeyProxy();
            // when five requests go out on the same session
            for (int i = 0; i < 5; i++) {
                Response r = req.send("GET", upstream.url("/user"), null, null);
                assertThat(r.bodyAsString()).contains("\"key\":\"" + a + "\"");
            }
        }
        // then a new session gets the other key
        try (Request req = pm.request(SecretType.KEY, "api", true)) {
            String b = req.getKeyProxy();
            assertThat(b).isNotEqualTo(a);
        }
        assertThat(upstream.tooMany()).isZero();
    }

    @Test
    void getKeyProxyCalledAgainMovesOnToAnotherSecret() throws IOException {
        // given
        start(2, 100, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            String first = req.getKeyProxy();
            String second = req.getKeyProxy();

            // then
            assertThat(second).isNotEqualTo(first);
            assertThat(req.send("GET", upstream.url("/x"), null, null).bodyAsString()).contains(second);
        }
    }

    @Test
    void aKeyHandedOutBeforeASendThatCountsInARouteBucketIsGivenBack() throws IOException {
        // given one key of 2 uses an hour, with a search bucket
        start(1, 2, api().withLimit(LimitConfig.of(1, Duration.ofHours(1))
                .matching(new RouteMatch(List.of(), "/search"))));
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when getKeyProxy's grant (a call in no bucket) is replaced by the send's, in the search bucket
            req.getKeyProxy();
            assertThat(req.send("GET", upstream.url("/search"), null, null).status()).isEqualTo(200);

            // then the replaced grant cost nothing: the key's second use is still there
            assertThat(pm.stats("api").get(0).totalUses()).isEqualTo(1);
            assertThat(req.send("GET", upstream.url("/user"), null, null).status()).isEqualTo(200);
        }
        assertThat(upstream.total()).isEqualTo(2);
    }

    @Test
    void thousandsOfRequestsFromManyThreadsNeverTripTheUpstreamLimit() throws Exception {
        // given 10 keys the upstream allows 200 requests each, and the same limit configured
        start(10, 200, api());
        int threads = 16;
        int perThread = 125; // 2000 in all: exactly the keys' capacity
        List<Future<List<Integer>>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    try (Request req = pm.request(SecretType.KEY, "api", false)) {
                        for (int i = 0; i < perThread; i++) {
                            statuses.add(req.send("GET", upstream.url("/items"), null, null).status());
                        }
                    }
                    return statuses;
                }));
            }
            // when
            List<Integer> all = new ArrayList<>();
            for (Future<List<Integer>> f : futures) {
                all.addAll(f.get());
            }

            // then
            assertThat(all).hasSize(2000).containsOnly(200);
            assertThat(upstream.tooMany()).isZero();
            for (int i = 1; i <= 10; i++) {
                assertThat(upstream.hits(keyValue(i))).isEqualTo(200);
            }
        }
    }

    @Test
    void aRevokedKeyIsCooledDownAndTheOthersTakeOver() throws IOException {
        // given
        start(3, 1000, api().withRotation(RotationMethod.ROUND_ROBIN));
        upstream.revoke(keyValue(2));
        List<Response> responses = new ArrayList<>();

        // when
        for (int i = 0; i < 30; i++) {
            try (Request req = pm.request(SecretType.KEY, "api", false)) {
                responses.add(req.send("GET", upstream.url("/items"), null, null));
            }
        }

        // then every call succeeded, and the revoked key was tried once only
        assertThat(responses).extracting(Response::status).containsOnly(200);
        assertThat(responses).extracting(Response::secretId).doesNotContain("k2");
        assertThat(upstream.unauthorized()).isEqualTo(1);
        assertThat(responses).filteredOn(r -> r.attempts() == 2).hasSize(1);
    }

    @Test
    void noSecretWithinTheBoundedWaitThrowsWithReasonAndRetryAfter() throws IOException {
        // given one key allowed 2 requests an hour (longer than the one-minute wait)
        start(1, 2, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            req.send("GET", upstream.url("/a"), null, null);
            req.send("GET", upstream.url("/a"), null, null);

            // when / then
            assertThatThrownBy(() -> req.send("GET", upstream.url("/a"), null, null))
                    .isInstanceOfSatisfying(NoSecretAvailableException.class, e -> {
                        assertThat(e.endpoint()).isEqualTo("api");
                        assertThat(e.reason()).contains("rate limit");
                        assertThat(e.retryAfter()).isGreaterThan(Duration.ofMinutes(1));
                    })
                    .hasMessageNotContaining(keyValue(1));
        }
        assertThat(upstream.tooMany()).isZero();
    }

    @Test
    void waitsForASecretWhenOneFreesUpWithinTheBound() throws IOException {
        // given one key allowed 1 request per 10 s, and a one-minute wait bound
        Map<String, Integer> limits = Map.of(keyValue(1), 1000);
        upstream = UpstreamServer.withKeys(limits);
        EndpointConfig e = api().withBaseUrl(upstream.baseUrl()).withLimit(LimitConfig.of(1, Duration.ofSeconds(10)))
                .withSecret("k1", keyValue(1)).build();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .maxWait(Duration.ofMinutes(1)).build();
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            req.send("GET", upstream.url("/a"), null, null);
            var before = clock.now();

            // when
            Response second = req.send("GET", upstream.url("/a"), null, null);

            // then the fake clock moved by the window, no real time passed waiting
            assertThat(second.status()).isEqualTo(200);
            assertThat(Duration.between(before, clock.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(9));
        }
    }

    @Test
    void whenNoOtherSecretIsLeftToRetryOnTheLastResponseIsReturned() throws IOException {
        // given the only key, which the upstream limits to nothing (429, Retry-After one hour)
        upstream = UpstreamServer.withKeys(Map.of(keyValue(1), 0));
        EndpointConfig e = api().withBaseUrl(upstream.baseUrl()).withLimit(LimitConfig.of(100, Duration.ofHours(1)))
                .withSecret("k1", keyValue(1)).build();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(e)).clock(clock).sleeper(clock::advance)
                .maxWait(Duration.ofMinutes(1)).build();
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            Response r = req.send("GET", upstream.url("/a"), null, null);

            // then
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.attempts()).isEqualTo(1);
            assertThat(r.header("Retry-After")).isEqualTo("3600");
        }
    }

    @Test
    void aNonIdempotentRequestIsNotRetriedButAGetIs() throws IOException {
        // given every key revoked
        start(3, 100, api());
        for (int i = 1; i <= 3; i++) {
            upstream.revoke(keyValue(i));
        }
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            Response post = req.send("POST", upstream.url("/items"), null, "{\"a\":1}");
            Response get = req.send("GET", upstream.url("/items"), null, null);

            // then
            assertThat(post.status()).isEqualTo(401);
            assertThat(post.attempts()).isEqualTo(1);
            assertThat(get.status()).isEqualTo(401);
            assertThat(get.attempts()).isEqualTo(3); // max_retries 2 by default
        }
    }

    @Test
    void aKeyIsNeverSentToAHostOutsideTheEndpoint() throws IOException {
        // given
        start(1, 100, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when / then
            assertThatThrownBy(() -> req.send("GET", "http://localhost:" + upstream.baseUrl().getPort() + "/x",
                    null, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("localhost")
                    .hasMessageContaining("api");
        }
        assertThat(upstream.total()).isZero();
    }

    @Test
    void aKeyIsNeverSentToAHostOnlyALenientParserReadsNorToAMalformedUrl() throws IOException {
        // given
        start(1, 100, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when / then: a host with an underscore (java.net.URI sees no host there) and a URL with a space
            assertThatThrownBy(() -> req.send("GET", "http://other_host:" + upstream.baseUrl().getPort() + "/x",
                    null, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("other_host");
            assertThatThrownBy(() -> req.send("GET", "http://local host/x", null, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a valid URL");
        }
        assertThat(upstream.total()).isZero();
    }

    @Test
    void aRedirectIsFollowedAndCarriesTheKeyOnlyToTheEndpointsHosts() throws IOException {
        // given
        start(1, 100, api());
        String elsewhere = "http://localhost:" + upstream.baseUrl().getPort() + "/x";
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            // when
            Response inside = req.send("GET", upstream.url("/redirect?to=/rate_limit"), null, null);
            Response outside = req.send("GET", upstream.url("/redirect?to=" + elsewhere), null, null);

            // then: followed within the endpoint with the key; to another host without it (the API refuses it)
            assertThat(inside.status()).isEqualTo(200);
            assertThat(inside.bodyAsString()).contains("\"key\":\"" + keyValue(1) + "\"");
            assertThat(outside.status()).isEqualTo(401);
        }
    }

    @Test
    void aCookieOneResponseSetsIsNotSentWithLaterRequests() throws IOException {
        // given: one caller's upstream answer sets a session cookie
        start(2, 100, api());
        Response login;
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            login = req.send("GET", upstream.url("/login"), null, null);
        }

        // when: later requests go to the same host, one of them with a cookie of its own
        Response later;
        Response ownCookie;
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            later = req.send("GET", upstream.url("/rate_limit"), null, null);
            ownCookie = req.send("GET", upstream.url("/rate_limit"), Map.of("Cookie", "mine=1"), null);
        }

        // then: the caller got its Set-Cookie, and the cookie went to nobody else (cookies belong to one session,
        // and the next request may be another caller's, on another key)
        assertThat(login.header("Set-Cookie")).startsWith("session=upstream-session");
        assertThat(later.bodyAsString()).contains("\"cookie\":\"\"");
        assertThat(ownCookie.bodyAsString()).contains("\"cookie\":\"mine=1\"");
    }

    @Test
    void addUserAgentSetsARealisticBrowserString() throws IOException {
        // given
        start(1, 100, api());
        try (Request req = pm.request(SecretType.KEY, "api", false)) {
            Map<String, String> headers = new HashMap<>(Map.of("user-agent", "python-requests/2.31"));

            // when
            req.addUserAgent(headers);

            // then
            assertThat(headers).containsOnlyKeys("User-Agent");
            assertThat(headers.get("User-Agent")).startsWith("Mozilla/5.0 (");
        }
    }

    @Test
    void askingForTheWrongKindOfEndpointNamesTheProblem() throws IOException {
        // given
        start(1, 100, api());

        // when / then
        assertThatThrownBy(() -> pm.request(SecretType.PROXY, "api", true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'api' is a key endpoint");
        assertThatThrownBy(() -> pm.request(SecretType.KEY, "nope", true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope");
    }
}
