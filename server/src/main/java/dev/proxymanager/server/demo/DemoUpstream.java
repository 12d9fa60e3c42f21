package dev.proxymanager.server.demo;

import dev.proxymanager.middleware.clock.Clock;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for a rate-limited third-party API, on loopback, so the embedded default shows rotation, limits and
 * caching with no account anywhere. Under {@code /{endpoint}/...} it answers JSON; it checks the API key
 * ({@code Authorization: Bearer <key>}, 401 for an unknown key) or, for proxy endpoints, which demo proxy the call
 * came through ({@code X-Demo-Via}, set by {@link DemoProxy}), and enforces its own limit per key or proxy
 * ({@code limitPerWindow} calls per {@code window}; 429 with Retry-After above it). Every answer says who was served,
 * masked, and counts calls so a cache hit is visible. This class is threadsafe.
 */
public final class DemoUpstream implements AutoCloseable {

    /** The header a {@link DemoProxy} adds to say which demo "IP" a call came through. */
    public static final String VIA_HEADER = "X-Demo-Via";

    private final Server server;
    private final ServerConnector connector;
    private ServerConnector secureConnector; // null until started, and when no certificate could be made
    private final Set<String> validKeys = ConcurrentHashMap.newKeySet();
    private final Map<String, Deque<Long>> windows = new ConcurrentHashMap<>();
    private final AtomicLong calls = new AtomicLong();
    private final int limitPerWindow;
    private final Duration window;
    private final Clock clock;

    /**
     * @param port the port on 127.0.0.1 (0 = free)
     * @param limitPerWindow calls each key or proxy may make per window
     * @param window the window length
     * @param clock the time source of the windows
     */
    public DemoUpstream(int port, int limitPerWindow, Duration window, Clock clock) {
        this.limitPerWindow = limitPerWindow;
        this.window = window;
        this.clock = clock;
        this.server = new Server();
        this.connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(request, response, callback);
                return true;
            }
        });
    }

    /** Accepts {@code key} as a valid API key. */
    public DemoUpstream allowKey(String key) {
        validKeys.add(key);
        return this;
    }

    /** Starts listening, on HTTP and — with a self-signed certificate made now — on HTTPS (a free port). */
    public DemoUpstream start() throws Exception {
        try {
            DemoCertificate cert = DemoCertificate.generate();
            SslContextFactory.Server tls = new SslContextFactory.Server();
            tls.setKeyStorePath(cert.keyStore().toString());
            tls.setKeyStorePassword(cert.password());
            tls.setKeyStoreType("PKCS12");
            HttpConfiguration config = new HttpConfiguration();
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false); // clients connect to 127.0.0.1, which SNI cannot name
            config.addCustomizer(secure);
            secureConnector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"),
                    new HttpConnectionFactory(config));
            secureConnector.setHost("127.0.0.1");
            server.addConnector(secureConnector);
        } catch (IllegalStateException | java.io.IOException e) {
            org.slf4j.LoggerFactory.getLogger(DemoUpstream.class).warn("demo site without HTTPS: {}", e.getMessage());
        }
        server.start();
        return this;
    }

    /** {@code https://127.0.0.1:<port>} (self-signed), or {@code null} when it runs without HTTPS. */
    public String httpsUrl() {
        return secureConnector == null ? null : "https://127.0.0.1:" + secureConnector.getLocalPort();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + connector.getLocalPort();
    }

    /** Calls served so far (with any status). */
    public long calls() {
        return calls.get();
    }

    private void serve(Request request, Response response, Callback callback) {
        calls.incrementAndGet();
        String path = Request.getPathInContext(request);
        if (path.equals("/slow")) {
            // lets a newcomer (and the timeout tests) see a read timeout
            try {
                Thread.sleep(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String via = request.getHeaders().get(VIA_HEADER);
        String client;
        if (via != null) {
            client = "proxy:" + via;
        } else if (auth != null && auth.startsWith("Bearer ") && validKeys.contains(auth.substring(7))) {
            String key = auth.substring(7);
            client = "key:" + (key.length() > 4 ? "…" + key.substring(key.length() - 4) : "…");
        } else if (request.isSecure()) {
            // through a CONNECT tunnel no proxy can add its name: TLS hides the request from it
            client = "tunnel";
        } else {
            respond(response, callback, 401, "{\"error\":\"invalid or missing API key\"}");
            return;
        }
        long now = clock.nanoTime();
        Deque<Long> w = windows.computeIfAbsent(client, k -> new ArrayDeque<>());
        long retryAfterSeconds = 0;
        synchronized (w) {
            while (!w.isEmpty() && w.peekFirst() <= now - window.toNanos()) {
                w.pollFirst();
            }
            if (w.size() >= limitPerWindow) {
                retryAfterSeconds = Math.max(1, (w.peekFirst() + window.toNanos() - now) / 1_000_000_000L);
            } else {
                w.addLast(now);
            }
        }
        if (retryAfterSeconds > 0) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(retryAfterSeconds));
            respond(response, callback, 429, "{\"error\":\"rate limit exceeded for " + client + "\"}");
            return;
        }
        String query = request.getHttpURI().getQuery();
        respond(response, callback, 200, "{\"path\":\"" + escape(path) + "\",\"query\":\"" + escape(query == null ? "" : query)
                + "\",\"served_to\":\"" + escape(client) + "\",\"upstream_call\":" + calls.get()
                + ",\"served_at\":\"" + clock.now() + "\"}");
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static void respond(Response response, Callback callback, int status, String json) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)), callback);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
