package dev.proxymanager.server.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Through the real server: route buckets count {@code /proxy/...} and {@code /api/v1/send} calls by the upstream
 * request's path, {@code X-Proxy-Manager-Cost} sets a call's cost (validated, never forwarded), and
 * {@code /api/v1/proxies} shows each key's buckets beside its own windows.
 */
class RouteCostRoutesTest {

    private static final String AUTH = "Bearer " + ServerHarness.ADMIN_TOKEN;
    private static TestUpstream upstream;
    private static ServerHarness harness;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":100,\"per\":\"1h\"},{\"requests\":2,\"per\":\"1h\",\"match\":{\"path\":\"/search/*\"}}]",
                "", "sk-route-cost-0000-1111") + "}}", 10, 10, 3, false);
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    @Test
    void searchCallsUseTheirOwnBucketOnTheSameKeyAndTheCostHeaderCountsUnits() throws Exception {
        assertThat(harness.send("GET", "/proxy/api/search/code", "").statusCode()).isEqualTo(200);
        assertThat(harness.send("POST", "/api/v1/send", "{\"endpoint\":\"api\",\"url\":\"/search/issues\"}")
                .statusCode()).isEqualTo(200);

        // the search bucket is full (2 of 2): search calls wait, other calls on the same key go on
        HttpResponse<String> held = harness.send("GET", "/proxy/api/search/code", "");
        assertThat(held.statusCode()).isEqualTo(429);
        assertThat(held.body()).contains("route * /search/*: 2 requests/1 h");
        HttpResponse<String> weighted = harness.send("GET", "/proxy/api/repos/x", "", "X-Proxy-Manager-Cost", "5");
        assertThat(weighted.statusCode()).isEqualTo(200);
        assertThat(upstream.lastHeaders).doesNotContainKey("x-proxy-manager-cost");

        String body = harness.send("GET", "/api/v1/proxies", "", "Authorization", AUTH).body();
        var key = HttpExchange.JSON.readTree(body).path("endpoints").path("api").path("secrets").get(0);
        assertThat(key.path("total_uses").asLong()).isEqualTo(7);
        assertThat(key.path("windows").get(0).path("limit").asText()).isEqualTo("100 requests/1 h");
        assertThat(key.path("windows").get(0).path("uses").asInt()).isEqualTo(7);
        var search = key.path("routes").get(0);
        assertThat(search.path("match").asText()).isEqualTo("* /search/*");
        assertThat(search.path("windows").get(0).path("limit").asText()).isEqualTo("2 requests/1 h");
        assertThat(search.path("windows").get(0).path("uses").asInt()).isEqualTo(2);
        assertThat(search.path("windows").get(0).path("max").asInt()).isEqualTo(2);
        assertThat(body).doesNotContain("sk-route-cost-0000-1111");
    }

    @Test
    void aBadOrTooLargeCostIsRefusedBeforeAnyKeyIsUsed() throws Exception {
        int before = upstream.requests.get();

        HttpResponse<String> bad = harness.send("GET", "/proxy/api/repos/x", "", "X-Proxy-Manager-Cost", "0");
        HttpResponse<String> word = harness.send("GET", "/proxy/api/repos/x", "", "X-Proxy-Manager-Cost", "ten");
        HttpResponse<String> tooLarge = harness.send("GET", "/proxy/api/search/x", "", "X-Proxy-Manager-Cost", "3");

        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("bad_cost").contains("X-Proxy-Manager-Cost must be between 1 and 100000, was 0");
        assertThat(word.statusCode()).isEqualTo(400);
        assertThat(word.body()).contains("X-Proxy-Manager-Cost must be a whole number, was \\\"ten\\\"");
        assertThat(tooLarge.statusCode()).isEqualTo(400);
        assertThat(tooLarge.body()).contains("cost_too_large")
                .contains("a call costing 3 uses can never be granted on endpoint 'api': route * /search/*:"
                        + " 2 requests/1 h counts it");
        assertThat(upstream.requests.get()).isEqualTo(before);
    }
}
