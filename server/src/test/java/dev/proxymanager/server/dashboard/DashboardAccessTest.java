package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.server.security.BearerTokenAuth;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard's access rules over real HTTP: everything needs the admin token, in one of its three forms. */
class DashboardAccessTest {
    private static final String TOKEN = "admin-token-0c7d41aa";
    private static DashboardServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @BeforeAll
    static void start() throws Exception {
        server = new DashboardServer(DashboardHandler.builder()
                .withAccessToken(TOKEN)
                .withLiveSecrets(() -> List.of(new SecretStatus("github", "gh-key-1", UnavailableCause.READY, 1, 30,
                        Duration.ofMinutes(1))))
                .build());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void rejectsThePageTheAssetsAndTheApiWithoutAToken() throws Exception {
        for (String path : List.of("", "assets/dashboard.js", "assets/chart.umd.min.js", "api/summary")) {
            HttpResponse<String> response = get(path, null, null);

            assertThat(response.statusCode()).as(path).isEqualTo(401);
            assertThat(response.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(
                    v -> assertThat(v).startsWith("Bearer"));
            assertThat(response.body()).as(path).doesNotContain(TOKEN);
        }
    }

    @Test
    void rejectsAWrongTokenInEveryForm() throws Exception {
        assertThat(get("?token=admin-token-0c7d41ab", null, null).statusCode()).isEqualTo(401);
        assertThat(get("api/summary", "Bearer admin-token-0c7d41ab", null).statusCode()).isEqualTo(401);
        assertThat(get("api/summary", null, BearerTokenAuth.SESSION_COOKIE + "=" + TOKEN).statusCode()).isEqualTo(401);
    }

    @Test
    void servesTheSummaryToABearerToken() throws Exception {
        HttpResponse<String> response = get("api/summary?range=15m", "Bearer " + TOKEN, null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(response.body()).contains("\"available\":false").contains("\"secretId\":\"gh-key-1\"")
                .doesNotContain(TOKEN);
    }

    @Test
    void exchangesTheQueryTokenForASessionCookieAndARedirectWithoutIt() throws Exception {
        // when the operator opens the link with the token
        HttpResponse<String> login = get("?token=" + TOKEN, null, null);

        // then the answer sends the browser back to the bare URL with a cookie that is not the token
        assertThat(login.statusCode()).isEqualTo(303);
        assertThat(login.headers().firstValue("Location")).hasValueSatisfying(
                location -> assertThat(location).endsWith("/dashboard/").doesNotContain(TOKEN));
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith(BearerTokenAuth.SESSION_COOKIE + "=").contains("HttpOnly")
                .containsIgnoringCase("SameSite=Strict").contains("Path=/dashboard").doesNotContain(TOKEN);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));

        // and the cookie opens the page and the API
        HttpResponse<String> page = get("", null, cookie);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<canvas id=\"chart-requests\"");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                csp -> assertThat(csp).contains("script-src 'self'"));
        assertThat(get("api/summary", null, cookie).statusCode()).isEqualTo(200);
    }

    @Test
    void servesChartJsFromTheWebJar() throws Exception {
        HttpResponse<String> response = get("assets/chart.umd.min.js", "Bearer " + TOKEN, null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/javascript"));
        assertThat(response.body()).contains("Chart.js v4").doesNotContain("sourceMappingURL");
    }

    @Test
    void refusesAnUnknownRangeAndOtherMethods() throws Exception {
        assertThat(get("api/summary?range=7y", "Bearer " + TOKEN, null).statusCode()).isEqualTo(400);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(server.dashboardUrl() + "api/summary"))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    private static HttpResponse<String> get(String path, String authorization, String cookie) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.dashboardUrl() + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
