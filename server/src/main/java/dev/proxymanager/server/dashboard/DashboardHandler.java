package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.security.BearerTokenAuth;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The built-in dashboard: one page with the request log's key panels (requests over time by endpoint, cache hit
 * ratio, status and outcome breakdown, latency p50/p95/p99) and the rotation engine's live per-secret state
 * (uses in window against the limit, ready / leased / cooling down / removed), refreshing itself.
 *
 * <p>A Jetty 12 core handler meant to be mounted in its own context, e.g.
 * <pre>{@code
 * DashboardHandler dashboard = DashboardHandler.builder()
 *         .withAccessToken(adminToken)
 *         .withHistory(ElasticsearchRequestHistory.builder().withClient(client).build())
 *         .withLiveSecrets(engine::secretStatuses)
 *         .build();
 * contexts.addHandler(new ContextHandler(dashboard, "/dashboard"));
 * }</pre>
 * Paths, relative to the context: {@code /} the page, {@code /assets/*} its script, style sheet and Chart.js
 * (from the WebJar; no CDN), {@code /api/summary?range=15m|1h|6h|24h} the JSON the page polls. Other paths are
 * left to the next handler; methods other than GET answer 405.
 *
 * <p><b>Access.</b> Everything, the page included, needs the admin token, in one of three forms: an
 * {@code Authorization: Bearer <token>} header (scripts, curl); {@code /dashboard/?token=<token>}, which a browser
 * opens once: the handler answers with an HttpOnly, SameSite=Strict session cookie and a redirect to the bare URL,
 * so the token leaves the address bar and history; or that cookie, which the page's own requests then carry.
 * The cookie is an HMAC of a fixed label keyed by the token (see {@link BearerTokenAuth}): never the token, valid
 * on every replica sharing the token, void once the token changes. Anything else answers 401 with
 * {@code WWW-Authenticate: Bearer}. Mount this handler <em>instead of</em> behind a header-only Bearer filter, or a
 * browser cannot open the page.
 *
 * <p>When the history cannot be read (Elasticsearch down), the page still shows the live engine state and says
 * the history is unavailable. Secrets appear only as the ids the engine gives in {@link SecretStatus}.
 *
 * <p>This class is threadsafe.
 */
public final class DashboardHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(DashboardHandler.class);
    private static final String RESOURCES = "/dev/proxymanager/server/dashboard/";
    private static final String CHART_JS_POM = "/META-INF/maven/org.webjars.npm/chart.js/pom.properties";
    /** The spans the page offers; the first is the default. */
    static final Map<String, Duration> RANGES = rangeMap();
    private static final String DEFAULT_RANGE = "1h";
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final BearerTokenAuth access;
    private final RequestHistory history;
    private final Supplier<List<SecretStatus>> liveSecrets;
    private final Clock clock;
    private final Duration refreshInterval;
    private final Map<String, Asset> assets;
    private final AtomicBoolean historyDown = new AtomicBoolean();
    private final AtomicBoolean liveDown = new AtomicBoolean();

    private DashboardHandler(Builder builder) {
        super(InvocationType.BLOCKING);
        this.access = new BearerTokenAuth(builder.accessToken);
        this.history = builder.history != null ? builder.history : range -> {
            throw new HistoryUnavailableException("no request history configured", null);
        };
        this.liveSecrets = builder.liveSecrets;
        this.clock = builder.clock;
        this.refreshInterval = builder.refreshInterval;
        this.assets = loadAssets();
    }

    /** A builder; {@link Builder#withAccessToken} is required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        boolean page = path.isEmpty() || path.equals("/") || path.equals("/index.html");
        boolean api = path.equals("/api/summary");
        Asset asset = assets.get(path);
        if (!page && !api && asset == null) {
            return false;
        }
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put("Referrer-Policy", "no-referrer");
        if (!HttpMethod.GET.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET");
            send(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "text/plain; charset=utf-8",
                    "405 only GET is allowed here\n".getBytes(StandardCharsets.UTF_8));
            return true;
        }
        Fields query = Request.extractQueryParameters(request);
        if (page && query.get("token") != null) {
            exchangeTokenForCookie(request, response, callback, query.getValue("token"));
            return true;
        }
        if (!authenticated(request)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"proxy-manager\"");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            send(response, callback, HttpStatus.UNAUTHORIZED_401, "text/plain; charset=utf-8",
                    ("401 the dashboard needs the admin token: open " + contextPath(request)
                            + "/?token=... once, or send Authorization: Bearer ...\n").getBytes(StandardCharsets.UTF_8));
            return true;
        }
        if (api) {
            summary(query, response, callback);
        } else {
            Asset served = page ? assets.get("/index.html") : asset;
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache, private");
            if (page) {
                response.getHeaders().put("Content-Security-Policy", CSP);
            }
            send(response, callback, HttpStatus.OK_200, served.contentType(), served.bytes());
        }
        return true;
    }

    private void exchangeTokenForCookie(Request request, Response response, Callback callback, String token) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (!access.permitsToken(token)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"proxy-manager\", error=\"invalid_token\"");
            send(response, callback, HttpStatus.UNAUTHORIZED_401, "text/plain; charset=utf-8",
                    "401 the token is not valid\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String context = contextPath(request);
        Response.addCookie(response, HttpCookie.build(BearerTokenAuth.SESSION_COOKIE, access.sessionCookieValue())
                .path(context.isEmpty() ? "/" : context)
                .httpOnly(true)
                .secure(request.isSecure())
                .sameSite(HttpCookie.SameSite.STRICT)
                .build());
        Response.sendRedirect(request, response, callback, HttpStatus.SEE_OTHER_303, context + "/", true);
    }

    private boolean authenticated(Request request) {
        return access.permits(request);
    }

    private void summary(Fields query, Response response, Callback callback) {
        String rangeName = query.getValue("range");
        if (rangeName == null) {
            rangeName = DEFAULT_RANGE;
        }
        Duration span = RANGES.get(rangeName);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (span == null) {
            send(response, callback, HttpStatus.BAD_REQUEST_400, "text/plain; charset=utf-8",
                    ("400 range must be one of " + RANGES.keySet() + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        Instant now = clock.now();
        HistoryRange range = HistoryRange.last(span, now);
        HistoryReport report = null;
        String historyError = null;
        try {
            report = history.report(range);
            if (historyDown.compareAndSet(true, false)) {
                LOG.info("dashboard history readable again");
            }
        } catch (HistoryUnavailableException | RuntimeException e) {
            // once per outage, not once per refresh of every open page
            if (historyDown.compareAndSet(false, true)) {
                LOG.warn("dashboard history unavailable: {}", e.getMessage(), e);
            } else {
                LOG.debug("dashboard history still unavailable: {}", e.getMessage());
            }
            historyError = e instanceof HistoryUnavailableException
                    ? "the request log could not be read" : "reading the request log failed (" + e.getClass().getSimpleName() + ")";
        }
        List<SecretStatus> secrets = null;
        String secretsError = null;
        try {
            secrets = List.copyOf(liveSecrets.get());
            if (liveDown.compareAndSet(true, false)) {
                LOG.info("dashboard live secret state available again");
            }
        } catch (RuntimeException e) {
            if (liveDown.compareAndSet(false, true)) {
                LOG.warn("dashboard live secret state unavailable: {}", e.toString(), e);
            } else {
                LOG.debug("dashboard live secret state still unavailable: {}", e.toString());
            }
            secretsError = "the rotation engine did not report (" + e.getClass().getSimpleName() + ")";
        }
        byte[] json = SummaryJson.write(now, rangeName, range, refreshInterval, report, historyError, secrets,
                secretsError);
        send(response, callback, HttpStatus.OK_200, "application/json", json);
    }

    private static void send(Response response, Callback callback, int status, String contentType, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static String contextPath(Request request) {
        String context = request.getContext().getContextPath();
        return context == null || context.equals("/") ? "" : context;
    }

    private static Map<String, Duration> rangeMap() {
        Map<String, Duration> ranges = new LinkedHashMap<>();
        ranges.put("15m", Duration.ofMinutes(15));
        ranges.put("1h", Duration.ofHours(1));
        ranges.put("6h", Duration.ofHours(6));
        ranges.put("24h", Duration.ofHours(24));
        return Collections.unmodifiableMap(ranges);
    }

    private static Map<String, Asset> loadAssets() {
        Map<String, Asset> assets = Map.of(
                "/index.html", new Asset("text/html; charset=utf-8", resource(RESOURCES + "index.html")),
                "/assets/dashboard.js", new Asset("text/javascript; charset=utf-8", resource(RESOURCES + "dashboard.js")),
                "/assets/dashboard.css", new Asset("text/css; charset=utf-8", resource(RESOURCES + "dashboard.css")),
                "/assets/chart.umd.min.js", new Asset("text/javascript; charset=utf-8", chartJs()));
        return assets;
    }

    /** Chart.js from the {@code org.webjars.npm:chart.js} WebJar on the class path, whatever its version. */
    private static byte[] chartJs() {
        Properties pom = new Properties();
        try (InputStream in = DashboardHandler.class.getResourceAsStream(CHART_JS_POM)) {
            if (in == null) {
                throw new IllegalStateException("Chart.js WebJar missing: " + CHART_JS_POM
                        + " is not on the class path (dependency org.webjars.npm:chart.js)");
            }
            pom.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] script = resource("/META-INF/resources/webjars/chart.js/" + pom.getProperty("version") + "/dist/chart.umd.min.js");
        // the WebJar does not serve the source map; drop the reference so browsers do not ask for it
        String text = new String(script, StandardCharsets.UTF_8).replaceAll("\\n//# sourceMappingURL=\\S+\\s*$", "\n");
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = DashboardHandler.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard resource missing from the class path: " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("dashboard resource " + name + " could not be read", e);
        }
    }

    private record Asset(String contentType, byte[] bytes) {
    }

    /**
     * Builds a {@link DashboardHandler}; {@link #build()} copies the settings. This class is <em>not</em>
     * threadsafe.
     */
    public static final class Builder {
        private String accessToken;
        private RequestHistory history;
        private Supplier<List<SecretStatus>> liveSecrets = List::of;
        private Clock clock = Clock.system();
        private Duration refreshInterval = Duration.ofSeconds(5);

        private Builder() {
        }

        /** The admin token that opens the dashboard (required; the same one the admin APIs take). */
        public Builder withAccessToken(String accessToken) {
            Objects.requireNonNull(accessToken, "accessToken");
            if (accessToken.isBlank()) {
                throw new IllegalArgumentException("accessToken must not be blank");
            }
            this.accessToken = accessToken;
            return this;
        }

        /** Where the history panels come from; default none: the page says the history is unavailable. */
        public Builder withHistory(RequestHistory history) {
            this.history = Objects.requireNonNull(history, "history");
            return this;
        }

        /**
         * The rotation engine's live per-secret state, called on every refresh from a request thread; default an
         * empty list. If it throws, the page says the live state is unavailable and shows the history.
         */
        public Builder withLiveSecrets(Supplier<List<SecretStatus>> liveSecrets) {
            this.liveSecrets = Objects.requireNonNull(liveSecrets, "liveSecrets");
            return this;
        }

        /** The clock for the history's time range; default {@link Clock#system()}. */
        public Builder withClock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How often the page refreshes itself; default 5 seconds, at least 1 second. */
        public Builder withRefreshInterval(Duration refreshInterval) {
            Objects.requireNonNull(refreshInterval, "refreshInterval");
            if (refreshInterval.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("refreshInterval must be >= 1s, was " + refreshInterval);
            }
            this.refreshInterval = refreshInterval;
            return this;
        }

        /**
         * @throws NullPointerException if no access token was set
         * @throws IllegalStateException if the page's resources or the Chart.js WebJar are not on the class path
         */
        public DashboardHandler build() {
            Objects.requireNonNull(accessToken, "accessToken is required: call withAccessToken(...)");
            return new DashboardHandler(this);
        }
    }
}
