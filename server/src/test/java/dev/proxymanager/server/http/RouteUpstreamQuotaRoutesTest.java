package dev.proxymanager.server.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Through the real server: the quota the upstream reports on a call that counts in a route bucket holds for that
 * bucket only, and {@code /api/v1/proxies} shows it beside the bucket's windows.
 */
class RouteUpstreamQuotaRoutesTest {

    private static final String AUTH = "Bearer " + ServerHarness.ADMIN_TOKEN;
    private static TestUpstream upstream;
    private static ServerHarness harness;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":100,\"per\":\"1h\"},{\"requests\":30,\"per\":\"1h\",\"match\":{\"path\":\"/search/*\"}}]",
                "", "sk-route-quota-0000-2222") + "}}", 10, 10, 3, false);
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    @Test
    void aSearchResponseSayingNothingLeftHoldsBackSearchCallsOnlyAndShowsOnTheBucket() throws Exception {
        // given the upstream answers a search call with its search quota used up
        long reset = Instant.now().plusSeconds(600).getEpochSecond();
        upstream.responseHeaders.put("X-RateLimit-Limit", "30");
        upstream.responseHeaders.put("X-RateLimit-Remaining", "0");
        upstream.responseHeaders.put("X-RateLimit-Reset", String.valueOf(reset));
        upstream.responseHeaders.put("X-RateLimit-Resource", "search");
        assertThat(harness.send("GET", "/proxy/api/search/code", "").statusCode()).isEqualTo(200);
        upstream.responseHeaders.clear();

        // then other calls on the key go on, search calls wait for the search reset
        assertThat(harness.send("GET", "/proxy/api/repos/x", "").statusCode()).isEqualTo(200);
        int before = upstream.requests.get();
        HttpResponse<String> held = harness.send("GET", "/proxy/api/search/code", "");
        assertThat(held.statusCode()).isEqualTo(429);
        assertThat(held.body()).contains("route * /search/*: upstream quota exhausted");
        assertThat(upstream.requests.get()).isEqualTo(before);

        String body = harness.send("GET", "/api/v1/proxies", "", "Authorization", AUTH).body();
        var key = HttpExchange.JSON.readTree(body).path("endpoints").path("api").path("secrets").get(0);
        assertThat(key.path("state").asText()).isEqualTo("ready");
        assertThat(key.path("upstream").isNull()).as("the key's own report: none").isTrue();
        var search = key.path("routes").get(0);
        assertThat(search.path("match").asText()).isEqualTo("* /search/*");
        assertThat(search.path("windows").get(0).path("uses").asInt()).isEqualTo(1);
        assertThat(search.path("upstream").path("limit").asLong()).isEqualTo(30);
        assertThat(search.path("upstream").path("remaining").asLong()).isZero();
        assertThat(search.path("upstream").path("reset").asText()).isEqualTo(Instant.ofEpochSecond(reset).toString());
        assertThat(body).doesNotContain("sk-route-quota-0000-2222");
    }
}
