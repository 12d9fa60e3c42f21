package dev.proxymanager.server.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class SettingsRoutesTest {

    private static final String KEY = "sk-live-settings-0000-9999";
    private static final String AUTH = "Bearer " + ServerHarness.ADMIN_TOKEN;

    private TestUpstream upstream;
    private ServerHarness harness;

    @BeforeEach
    void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":5,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, false);
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    @Test
    void adminRoutesRefuseMissingOrWrongTokens() throws Exception {
        assertThat(harness.get("/api/v1/settings").statusCode()).isEqualTo(401);
        assertThat(harness.get("/api/v1/proxies", "Authorization", "Bearer wrong-token-wrong-token").statusCode()).isEqualTo(401);
        assertThat(harness.send("PUT", "/api/v1/settings", "{\"max_queue_size\":1}").statusCode()).isEqualTo(401);
        assertThat(harness.get("/api/v1/settings", "Authorization", AUTH).statusCode()).isEqualTo(200);
    }

    @Test
    void proxiesListsPerSecretStatsMasked() throws Exception {
        harness.get("/proxy/api/x");

        HttpResponse<String> r = harness.get("/api/v1/proxies", "Authorization", AUTH);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"id\" : \"key-1\"").contains("\"total_uses\" : 1").contains("sk-l…9999")
                .doesNotContain(KEY);
    }

    @Test
    void proxiesNameWhyASecretIsOutAndTheLimitThatBinds() throws Exception {
        // given the key's 5 requests a minute used up
        for (int i = 0; i < 5; i++) {
            assertThat(harness.get("/proxy/api/" + i).statusCode()).isEqualTo(200);
        }

        // when
        HttpResponse<String> r = harness.get("/api/v1/proxies", "Authorization", AUTH);

        // then the cause is the UnavailableCause's wire name, with the limit that binds
        assertThat(r.body()).contains("\"state\" : \"at_limit\"").contains("\"binding_limit\" : \"5 requests/60 s\"");
    }

    @Test
    void proxiesShowsEachEndpointsLimitMargin() throws Exception {
        try (TestUpstream other = new TestUpstream();
             ServerHarness withMargin = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api",
                     other.url(), "[{\"requests\":5,\"per\":\"60s\"}]", ",\"limit_margin\":\"2%\"", KEY) + "}}",
                     10, 10, 3, false)) {
            assertThat(withMargin.get("/api/v1/proxies", "Authorization", AUTH).body())
                    .contains("\"limit_margin\" : \"2%\"");
        }
        assertThat(harness.get("/api/v1/proxies", "Authorization", AUTH).body())
                .contains("\"limit_margin\" : \"100ms\"");
    }

    @Test
    void putChangesTheLimitLiveAndKeepsTheCounts() throws Exception {
        // given two requests counted against a limit of 5
        harness.get("/proxy/api/1");
        harness.get("/proxy/api/2");

        // when the limit drops to 3 per minute
        HttpResponse<String> put = harness.send("PUT", "/api/v1/settings",
                "{\"endpoints\":{\"api\":{\"limits\":[{\"requests\":3,\"per\":\"60s\"}],\"rotation\":\"round-robin\"}},"
                        + "\"max_concurrent_requests\":7}", "Authorization", AUTH);

        // then the change is live: one more request fits, the next is refused
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.body()).contains("\"requests\" : 3").contains("\"rotation\" : \"round-robin\"");
        assertThat(harness.limiter.maxConcurrent()).isEqualTo(7);
        assertThat(harness.get("/proxy/api/3").statusCode()).isEqualTo(200);
        assertThat(harness.get("/proxy/api/4").statusCode()).isEqualTo(429);
    }

    @Test
    void putRefusesInvalidSettingsNamingThePathAndChangesNothing() throws Exception {
        HttpResponse<String> r = harness.send("PUT", "/api/v1/settings",
                "{\"max_concurrent_requests\":50,\"endpoints\":{\"api\":{\"limits\":[{\"requests\":-5,\"per\":\"60s\"}]}}}",
                "Authorization", AUTH);
        HttpResponse<String> unknown = harness.send("PUT", "/api/v1/settings",
                "{\"endpoints\":{\"api\":{\"rotaton\":\"round-robin\"}}}", "Authorization", AUTH);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("endpoints.api.limits[0].requests must be > 0, was -5");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("endpoints.api.rotaton is not a setting");
        assertThat(harness.limiter.maxConcurrent()).isEqualTo(10);
    }

    @Test
    void protectedForwardingNeedsTheTokenAndDoesNotPassItUpstream() throws Exception {
        harness.close();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":5,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, true);

        assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(401);
        HttpResponse<String> ok = harness.get("/proxy/api/x", "Authorization", AUTH);

        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(upstream.lastHeaders.get("authorization")).isEqualTo("Bearer " + KEY);
    }
}
