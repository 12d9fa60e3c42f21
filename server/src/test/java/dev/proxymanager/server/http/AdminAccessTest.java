package dev.proxymanager.server.http;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** One check for every token: the forwarding token forwards and nothing else; a browser holds a session, not a token. */
class AdminAccessTest {

    private static final String KEY = "sk-live-aaaaaaaa-1111";
    private static final String ADMIN = "Bearer " + ServerHarness.ADMIN_TOKEN;
    private static final String FORWARDING = "Bearer " + ServerHarness.FORWARDING_TOKEN;

    private TestUpstream upstream;
    private ServerHarness harness;

    @BeforeEach
    void start() throws Exception {
        upstream = new TestUpstream();
        harness = new ServerHarness("{\"endpoints\":{" + ServerHarness.keyEndpoint("api", upstream.url(),
                "[{\"requests\":50,\"per\":\"60s\"}]", "", KEY) + "}}", 10, 10, 3, true);
        harness.server.routes().mount("/page", new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                HttpExchange.json(response, callback, 200, java.util.Map.of("page", "ok"));
                return true;
            }
        }, true);
    }

    @AfterEach
    void stop() throws Exception {
        harness.close();
        upstream.close();
    }

    @Test
    void theForwardingTokenForwardsWithoutGoingUpstreamButCannotReadOrChangeSettings() throws Exception {
        assertThat(harness.get("/proxy/api/x").statusCode()).isEqualTo(401);

        HttpResponse<String> forwarded = harness.get("/proxy/api/x", "Authorization", FORWARDING);
        assertThat(forwarded.statusCode()).isEqualTo(200);
        assertThat(upstream.lastHeaders.get("authorization")).isEqualTo("Bearer " + KEY);

        assertThat(harness.get("/api/v1/settings", "Authorization", FORWARDING).statusCode()).isEqualTo(401);
        assertThat(harness.send("PUT", "/api/v1/settings", "{\"max_concurrent_requests\":1}", "Authorization", FORWARDING)
                .statusCode()).isEqualTo(401);
        assertThat(harness.get("/api/v1/proxies", "Authorization", FORWARDING).statusCode()).isEqualTo(401);
        assertThat(harness.get("/page", "Authorization", FORWARDING).statusCode()).isEqualTo(401);
        assertThat(harness.limiter.maxConcurrent()).isEqualTo(10);

        assertThat(harness.get("/api/v1/settings", "Authorization", ADMIN).statusCode()).isEqualTo(200);
        assertThat(harness.get("/proxy/api/y", "Authorization", ADMIN).statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenLinkGivesABrowserASessionCookieThatIsNotTheToken() throws Exception {
        HttpClient noRedirects = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5)).build();

        // when an operator opens the page with ?token=
        HttpResponse<String> login = noRedirects.send(HttpRequest.newBuilder(harness.uri("/page?token="
                + ServerHarness.ADMIN_TOKEN)).build(), HttpResponse.BodyHandlers.ofString());

        // then the browser gets a session cookie that is not the token, and it opens the admin routes
        assertThat(login.statusCode()).isEqualTo(303);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith("pm_session=").contains("HttpOnly").containsIgnoringCase("SameSite=Strict")
                .doesNotContain(ServerHarness.ADMIN_TOKEN);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertThat(harness.get("/page", "Cookie", cookie).statusCode()).isEqualTo(200);
        assertThat(harness.get("/api/v1/proxies", "Cookie", cookie).statusCode()).isEqualTo(200);

        // and a cookie holding the raw token (the old scheme) opens nothing
        assertThat(harness.get("/page", "Cookie", "pm_session=" + ServerHarness.ADMIN_TOKEN).statusCode()).isEqualTo(401);
        assertThat(harness.get("/page", "Cookie", "proxy_manager_admin=" + ServerHarness.ADMIN_TOKEN).statusCode())
                .isEqualTo(401);
        noRedirects.close();
    }
}
