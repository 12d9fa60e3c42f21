package dev.proxymanager.middleware;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A rate-limited API on loopback, like the ones the library protects: it checks the key (header
 * {@code Authorization: Bearer <key>} or query {@code api_key}), enforces its own per-key request limit — a request
 * past it gets {@code 429} — and answers {@code 401} for unknown or revoked keys. Without keys configured it
 * accepts everyone. Every answer is JSON naming the key used, the {@code Via} header seen (which proxy) and the
 * {@code Cookie} header received. Two paths behave like a web site: {@code /redirect?to=<url>} answers {@code 302} to
 * that URL, and {@code /login} sets a session cookie.
 */
final class UpstreamServer implements AutoCloseable {

    private static final String RESPONDED = "responded";

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(32);
    private final Map<String, Integer> limits;
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger tooMany = new AtomicInteger();
    private final AtomicInteger unauthorized = new AtomicInteger();
    private final List<String> vias = new CopyOnWriteArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private volatile int failStatus;
    private volatile long latencyNanos;

    private UpstreamServer(Map<String, Integer> limits) throws IOException {
        this.limits = Map.copyOf(limits);
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** An API whose keys are the map's keys, each allowed the mapped number of requests in all. */
    static UpstreamServer withKeys(Map<String, Integer> limits) throws IOException {
        return new UpstreamServer(limits);
    }

    /** An API that needs no key (the proxy tests). */
    static UpstreamServer open() throws IOException {
        return new UpstreamServer(Map.of());
    }

    private void handle(HttpExchange ex) throws IOException {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try (ex; InputStream in = ex.getRequestBody()) {
            byte[] requestBody = in.readAllBytes();
            total.incrementAndGet();
            if (latencyNanos > 0) {
                // a slow API, so concurrent calls overlap as they do against real upstreams
                java.util.concurrent.locks.LockSupport.parkNanos(latencyNanos);
            }
            String via = ex.getRequestHeaders().getFirst("Via");
            vias.add(via == null ? "" : via);
            String path = ex.getRequestURI().getPath();
            if (path.equals("/redirect")) {
                ex.getResponseHeaders().add("Location", queryParameter(ex, "to"));
                respond(ex, 302, "{}");
                return;
            }
            if (path.equals("/login")) {
                ex.getResponseHeaders().add("Set-Cookie", "session=upstream-session; Path=/");
            }
            String cookie = ex.getRequestHeaders().getFirst("Cookie");
            if (failStatus != 0) {
                respond(ex, failStatus, "{\"error\":\"failing\"}");
                return;
            }
            String key = null;
            if (!limits.isEmpty()) {
                key = keyOf(ex);
                if (key == null || !limits.containsKey(key) || revoked.contains(key)) {
                    unauthorized.incrementAndGet();
                    respond(ex, 401, "{\"error\":\"bad credentials\"}");
                    return;
                }
                int n = hits.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                if (n > limits.get(key)) {
                    tooMany.incrementAndGet();
                    ex.getResponseHeaders().add("Retry-After", "3600");
                    respond(ex, 429, "{\"error\":\"rate limit exceeded\"}");
                    return;
                }
            }
            respond(ex, 200, "{\"key\":\"" + (key == null ? "" : key) + "\",\"via\":\"" + (via == null ? "" : via)
                    + "\",\"method\":\"" + ex.getRequestMethod() + "\",\"query\":\""
                    + (ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery())
                    + "\",\"cookie\":\"" + (cookie == null ? "" : cookie)
                    + "\",\"body\":\"" + new String(requestBody, StandardCharsets.UTF_8).replace("\"", "'") + "\"}");
        } finally {
            if (ex.getAttribute(RESPONDED) == null) {
                inFlight.decrementAndGet();
            }
        }
    }

    private static String queryParameter(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getRawQuery();
        for (String p : q == null ? new String[0] : q.split("&")) {
            if (p.startsWith(name + "=")) {
                return URLDecoder.decode(p.substring(name.length() + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static String keyOf(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ")) {
            return auth.substring("Bearer ".length());
        }
        String q = ex.getRequestURI().getRawQuery();
        if (q != null) {
            for (String p : q.split("&")) {
                if (p.startsWith("api_key=")) {
                    return p.substring("api_key=".length());
                }
            }
        }
        return null;
    }

    private void respond(HttpExchange ex, int status, String json) throws IOException {
        // no longer in flight once the answer starts: the client may send its next request as soon as it has it
        ex.setAttribute(RESPONDED, Boolean.TRUE);
        inFlight.decrementAndGet();
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** From now on, {@code key} is answered 401. */
    void revoke(String key) {
        revoked.add(key);
    }

    /** Each answer takes {@code latency} (simulated processing time of a real API). */
    void latency(java.time.Duration latency) {
        this.latencyNanos = latency.toNanos();
    }

    /** From now on every request is answered {@code status} (0 to stop). */
    void failWith(int status) {
        this.failStatus = status;
    }

    URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    String url(String path) {
        return baseUrl() + path;
    }

    /** Requests that reached the handler with {@code key} (accepted or 429). */
    int hits(String key) {
        AtomicInteger n = hits.get(key);
        return n == null ? 0 : n.get();
    }

    /** The most requests the handler had in progress at once. */
    int maxInFlight() {
        return maxInFlight.get();
    }

    int total() {
        return total.get();
    }

    int tooMany() {
        return tooMany.get();
    }

    int unauthorized() {
        return unauthorized.get();
    }

    /** The {@code Via} header of each request ("" when none), in arrival order. */
    List<String> vias() {
        return List.copyOf(vias);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
