package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.ConfigException;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.cache.CacheKey;
import dev.proxymanager.middleware.cache.CacheMode;
import dev.proxymanager.middleware.cache.CachePolicy;
import dev.proxymanager.middleware.cache.CacheResult;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeClassifier;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.log.RequestLogEntry;
import dev.proxymanager.middleware.quota.QuotaHeaders;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.rotation.CallRoute;
import dev.proxymanager.middleware.rotation.CostTooLargeException;
import dev.proxymanager.server.http.ProxyManagerHeaders;
import dev.proxymanager.server.proxy.tls.TlsInterception;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.server.security.HeaderPolicy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ConnectHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.HostPort;
import org.eclipse.jetty.util.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.SequenceInputStream;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The proxy port's protocol (RFC 9110/9112 forward proxy): absolute-form requests ({@code GET http://site/path})
 * are sent through an upstream proxy the engine picks from the client's proxy endpoint; {@code CONNECT host:port}
 * opens a tunnel through the picked upstream proxy (an upstream {@code CONNECT} with its credentials), relayed by
 * Jetty's {@link ConnectHandler} over NIO, so an idle tunnel holds no thread.
 *
 * <p>Every exchange is identified ({@link ProxyClient}), its target checked ({@link TargetPolicy}) and its proxy
 * picked ({@link UpstreamPicker}); the proxy's own answers carry {@code X-Proxy-Manager-Error}
 * ({@link ProxyRefusal}). The outcome of each attempt — a status, a connection error, a timeout, the upstream's
 * answer to CONNECT — goes back to the engine and feeds the proxy's health. This class is threadsafe.
 */
public final class ForwardProxyHandler extends ConnectHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardProxyHandler.class);

    /** Names this proxy in {@code Via}; a request already carrying it is looping back through us. */
    static final String VIA_TOKEN = "proxy-manager";
    private static final String TUNNEL = "proxy-manager.tunnel";

    private final ProxyManager manager;
    private final ProxyClient clients;
    private final TargetPolicy targets;
    private final UpstreamPicker picker;
    private final SiteScopes sites;
    private final PlainHttpClient http;
    private final Clock clock;
    private final long maxRequestBytes;
    private final ForwardProxyMetrics metrics;
    private final TlsInterception interception;

    /**
     * @param manager the engine, endpoints and request log
     * @param settings the listener's settings
     * @param clock the time source of sessions and latencies
     * @param maxRequestBytes the largest request body accepted (413 above)
     * @param metrics where counters go
     * @param sessions where sticky sessions are bound (shared across replicas when it is Redis)
     */
    public ForwardProxyHandler(ProxyManager manager, ForwardProxySettings settings, Clock clock, long maxRequestBytes,
                               int maxConnections, ForwardProxyMetrics metrics, SessionStore sessions) {
        this(manager, settings, clock, maxRequestBytes, maxConnections, metrics, sessions, null, null);
    }

    /**
     * @param interception TLS interception of the endpoints that turn it on, or {@code null} for none
     * @param upstreamTls what TLS to sites trusts, or {@code null} for the JVM's trust store
     */
    public ForwardProxyHandler(ProxyManager manager, ForwardProxySettings settings, Clock clock, long maxRequestBytes,
                               int maxConnections, ForwardProxyMetrics metrics, SessionStore sessions,
                               TlsInterception interception, SSLContext upstreamTls) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.clients = new ProxyClient(settings);
        this.targets = TargetPolicy.system();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sites = new SiteScopes(manager.engine().store(), clock, metrics::siteStateChanged);
        this.picker = new UpstreamPicker(manager.engine(), sites, sessions, clock, settings.sessionTtl());
        this.http = new PlainHttpClient(maxConnections, upstreamTls != null ? upstreamTls : defaultTls(), clock,
                metrics::staleConnectionRetried);
        this.maxRequestBytes = maxRequestBytes;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.interception = interception;
    }

    private static SSLContext defaultTls() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context", e);
        }
    }

    /** What the checks common to both paths found: the endpoint and session, or the answer already sent. */
    private record Admitted(EndpointConfig endpoint, String session, String host, int port) {
    }

    // ---------------------------------------------------------------- plain HTTP

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (request.getConnectionMetaData().getAttribute(TlsInterception.TUNNEL_ATTRIBUTE) instanceof Admitted tunnel) {
            handleIntercepted(request, response, callback, tunnel);
            return true;
        }
        if ("CONNECT".equals(request.getMethod())) {
            return super.handle(request, response, callback);
        }
        HttpURI uri = request.getHttpURI();
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST,
                    "this port is an HTTP proxy: send absolute-form requests (GET http://host/path) or CONNECT");
            return true;
        }
        int port = uri.getPort() > 0 ? uri.getPort() : (scheme.equals("https") ? 443 : 80);
        Admitted admitted = admit(request, response, callback, uri.getHost(), port,
                request.getHeaders().get("X-Proxy-Manager-Session"));
        if (admitted == null) {
            return true;
        }
        byte[] body;
        try {
            body = readBody(request);
        } catch (RequestTooLargeException e) {
            refuse(request, response, callback, ProxyRefusal.REQUEST_TOO_LARGE, e.getMessage());
            return true;
        }
        URI target;
        try {
            target = new URI(uri.asString());
        } catch (URISyntaxException e) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST, "malformed target URL");
            return true;
        }
        forward(request, response, callback, admitted, target, body);
        return true;
    }

    /**
     * Sends a plain or intercepted request: through {@link #attempt} (rotated upstream proxies, bans, retries), and
     * through the response cache when the endpoint's cache policy covers the method and a cache is configured.
     */
    private void forward(Request request, Response response, Callback callback, Admitted admitted, URI target,
                         byte[] body) {
        EndpointConfig endpoint = admitted.endpoint();
        String method = request.getMethod();
        int cost;
        try {
            cost = ProxyManagerHeaders.cost(request.getHeaders().get(ProxyManagerHeaders.COST));
        } catch (ConfigException e) {
            refuse(request, response, callback, ProxyRefusal.BAD_COST, e.getMessage());
            return;
        }
        List<Map.Entry<String, String>> headers = requestHeaders(request);
        ResponseCache cache = manager.cache();
        CachePolicy policy = endpoint.cache();
        if (cache == null || !policy.enabled() || !policy.allowsMethod(method)) {
            Attempted attempted = attempt(request, admitted, target, body, headers, cost, "bypass");
            if (attempted instanceof Refused refused) {
                answer(request, response, callback, refused);
                return;
            }
            stream(request, response, callback, admitted, target, (Answer) attempted, "bypass");
            return;
        }
        CacheMode mode = CacheMode.fromRequestCacheControl(request.getHeaders().get(HttpHeader.CACHE_CONTROL));
        CacheKey key = ProxiedCacheKey.of(endpoint, method, target, headers, body,
                request.getHeaders().get(HttpHeader.CONTENT_TYPE));
        String logCache = mode == CacheMode.NORMAL ? "miss" : "bypass";
        AtomicReference<Answer> fromUpstream = new AtomicReference<>();
        AtomicReference<Answer> tooLarge = new AtomicReference<>();
        CacheResult result;
        try {
            result = cache.fetch(key, policy, mode, () -> {
                Attempted attempted = attempt(request, admitted, target, body, headers, cost, logCache);
                if (attempted instanceof Refused refused) {
                    throw new RefusedException(refused);
                }
                Answer a = (Answer) attempted;
                CachedResponse buffered = buffer(a.upstream(), MAX_CACHED_BODY);
                if (buffered == null) {
                    tooLarge.set(a);
                    throw new TooLargeToCacheException();
                }
                fromUpstream.set(a);
                if (!a.logged()) {
                    log(endpoint, method, target, a.picked(), a.status(), a.startedNanos(), a.sentAt(),
                            (long) buffered.bodyLength(), a.attempt(), a.kind(), null, logCache, a.quota());
                }
                return buffered;
            });
        } catch (RefusedException e) {
            answer(request, response, callback, e.refused);
            return;
        } catch (TooLargeToCacheException e) {
            stream(request, response, callback, admitted, target, tooLarge.get(), "bypass");
            return;
        } catch (IOException e) {
            answer(request, response, callback, bodyFailed(e));
            return;
        }
        if (tooLarge.get() != null) {
            discard(tooLarge.get().upstream()); // the cache served a stale entry instead
        }
        Answer a = result.fromCache() ? null : fromUpstream.get();
        if (result.fromCache()) {
            // attempt 0: answered from the cache, no upstream attempt (RequestLogEntry)
            log(endpoint, method, target, null, result.response().status(), clock.nanoTime(), clock.now(),
                    (long) result.response().bodyLength(), 0,
                    OutcomeClassifier.classifyStatus(result.response().status(), endpoint.health()), null,
                    result.status().logValue());
        }
        writeCached(request, response, callback, result, a, admitted.session());
    }

    /** Bodies above this are streamed, never held for the cache (which would not store them): 8 MiB. */
    static final int MAX_CACHED_BODY = ResponseCache.DEFAULT_MAX_BODY_BYTES;

    /** Relays an answer as it arrives, then logs it (unless its attempt was logged already). */
    private void stream(Request request, Response response, Callback callback, Admitted admitted, URI target,
                        Answer a, String logCache) {
        Relayed relayed = relay(request, response, callback, a.upstream(), a.picked(), a.attempt(),
                admitted.session());
        if (!a.logged()) {
            log(admitted.endpoint(), request.getMethod(), target, a.picked(), a.status(), a.startedNanos(), a.sentAt(),
                    relayed.error() == null ? relayed.bytes() : null, a.attempt(), a.kind(), relayed.error(), logCache,
                    a.quota());
        }
    }

    /** Leaves the cache's upstream call when the body is too large to hold; the answer is streamed instead. */
    private static final class TooLargeToCacheException extends IOException {
        TooLargeToCacheException() {
            super("response body over " + MAX_CACHED_BODY + " bytes: streamed, not cached");
        }
    }

    /** What the attempts at one request came to: a response to relay, or the proxy's own answer. */
    private sealed interface Attempted permits Answer, Refused {
    }

    /** The upstream response of the last attempt; its lease is already released. */
    private record Answer(ClassicHttpResponse upstream, UpstreamPicker.Picked picked, int attempt, OutcomeKind kind,
                          long startedNanos, Instant sentAt, boolean logged, QuotaReading quota) implements Attempted {
        int status() {
            return upstream.getCode();
        }
    }

    /** The proxy answers itself ({@code retryAfter} only for {@link ProxyRefusal#NO_PROXY_AVAILABLE}). */
    private record Refused(ProxyRefusal refusal, String reason, Duration retryAfter) implements Attempted {
    }

    /** Carries a {@link Refused} out of the cache's upstream call. */
    private static final class RefusedException extends IOException {
        final Refused refused;

        RefusedException(Refused refused) {
            super(refused.reason());
            this.refused = refused;
        }
    }

    /**
     * The one path of "send this request through a rotated upstream proxy", for plain and intercepted requests:
     * picks a proxy (the session's while usable), sends, reports the outcome to the engine, and retries a ban status,
     * a connection failure or a timeout on another proxy (idempotent methods, or all with retry_non_idempotent).
     * A failed site certificate is not retried: it is {@link ProxyRefusal#UPSTREAM_TLS}.
     */
    private Attempted attempt(Request request, Admitted admitted, URI target, byte[] body,
                              List<Map.Entry<String, String>> headers, int cost, String logCache) {
        EndpointConfig endpoint = admitted.endpoint();
        String method = request.getMethod();
        boolean mayRetry = PlainHttpClient.isIdempotent(method) || endpoint.retry().retryNonIdempotent();
        int maxAttempts = mayRetry ? 1 + endpoint.retry().maxRetries() : 1;
        String lastError = null;
        ProxyRefusal lastRefusal = ProxyRefusal.UPSTREAM_FAILED;
        // a banned answer kept while another proxy is tried: when none can be, it says more than a 502
        Answer lastBanned = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            UpstreamPicker.Pick pick;
            try {
                pick = picker.pick(endpoint, admitted.host(), admitted.session(), attempt > 1,
                        new CallRoute(method, target.getRawPath() == null || target.getRawPath().isEmpty() ? "/"
                                : target.getRawPath(), cost));
            } catch (CostTooLargeException e) {
                return new Refused(ProxyRefusal.COST_TOO_LARGE, e.getMessage(), null);
            }
            if (pick instanceof UpstreamPicker.NoneFree none) {
                if (lastBanned != null) {
                    return lastBanned;
                }
                return attempt == 1 ? new Refused(ProxyRefusal.NO_PROXY_AVAILABLE, none.reason(), none.retryAfter())
                        : new Refused(lastRefusal, lastError + "; no other proxy free to retry on", null);
            }
            UpstreamPicker.Picked picked = (UpstreamPicker.Picked) pick;
            long started = clock.nanoTime();
            Instant sentAt = clock.now();
            ClassicHttpResponse upstream = null;
            java.nio.ByteBuffer bodyPrefix = null;
            try {
                upstream = http.send(method, target, headers, body,
                        request.getHeaders().get(HttpHeader.CONTENT_TYPE), picked.proxy(),
                        endpoint.timeouts().connect(), endpoint.timeouts().read());
                if (OutcomeClassifier.needsBody(endpoint.health())) {
                    bodyPrefix = ResponseBodyScan.prefix(upstream);
                }
            } catch (SSLException e) {
                // the site's certificate, not the upstream proxy, failed: no health effect, no retry elsewhere
                if (upstream != null) {
                    discard(upstream);
                }
                // through the proxy to the site's TLS handshake: both were used, the uses stay counted
                picker.release(picked, Outcome.unanswered(), UpstreamPicker.Answerer.SITE);
                log(endpoint, method, target, picked, null, started, sentAt, null, attempt,
                        OutcomeKind.CONNECTION_ERROR, ProxyRefusal.UPSTREAM_TLS.token(), logCache);
                if (lastBanned != null) {
                    discard(lastBanned.upstream());
                }
                return new Refused(ProxyRefusal.UPSTREAM_TLS, "the TLS certificate of " + target.getHost()
                        + " failed verification (" + e.getClass().getSimpleName() + ")", null);
            } catch (IOException e) {
                if (upstream != null) {
                    discard(upstream);
                }
                boolean timeout = isTimeout(e);
                Outcome failed = timeout ? Outcome.timeout() : Outcome.connectionError();
                OutcomeKind failedKind = picker.release(picked, failed, UpstreamPicker.Answerer.SITE);
                log(endpoint, method, target, picked, null, started, sentAt, null, attempt, failedKind,
                        e.getClass().getSimpleName(), logCache);
                lastRefusal = timeout ? ProxyRefusal.UPSTREAM_TIMEOUT : ProxyRefusal.UPSTREAM_FAILED;
                lastError = (timeout ? "upstream proxy " + picked.lease().secretId() + " timed out"
                        : "upstream proxy " + picked.lease().secretId() + " failed (" + e.getClass().getSimpleName() + ")");
                continue;
            }
            int status = upstream.getCode();
            Outcome answered = Outcome.response(status, retryAfter(upstream), bodyPrefix)
                    .withQuota(quotaReading(endpoint, upstream));
            // the engine classifies the answer knowing the proxy's windows (a 429 at a limit is a cooldown, no ban)
            OutcomeKind kind = picker.release(picked, answered, UpstreamPicker.Answerer.SITE);
            if (lastBanned != null) {
                discard(lastBanned.upstream());
                lastBanned = null;
            }
            if (kind.retryableOnAnotherSecret() && attempt < maxAttempts) {
                boolean byBody = OutcomeClassifier.bannedByBody(answered.bodyPrefix(), endpoint.health());
                log(endpoint, method, target, picked, status, started, sentAt, null, attempt, kind,
                        byBody ? "body_pattern" : null, logCache, answered.quota());
                lastBanned = new Answer(upstream, picked, attempt, kind, started, sentAt, true, answered.quota());
                continue;
            }
            return new Answer(upstream, picked, attempt, kind, started, sentAt, false, answered.quota());
        }
        return lastBanned != null ? lastBanned : new Refused(lastRefusal, lastError, null);
    }

    private void answer(Request request, Response response, Callback callback, Refused refused) {
        if (refused.refusal() == ProxyRefusal.NO_PROXY_AVAILABLE && refused.retryAfter() != null) {
            noneFree(request, response, callback, new UpstreamPicker.NoneFree(refused.reason(), refused.retryAfter()));
        } else {
            refuse(request, response, callback, refused.refusal(), refused.reason());
        }
    }

    /**
     * Reads the upstream response whole (for the cache), keeping only the headers a client may see; {@code null}
     * when the body is over {@code maxBody}, the response then left open with its body whole for streaming.
     */
    private static CachedResponse buffer(ClassicHttpResponse upstream, int maxBody) throws IOException {
        HttpEntity entity = upstream.getEntity();
        byte[] body = new byte[0];
        if (entity != null) {
            if (entity.getContentLength() > maxBody) {
                return null;
            }
            InputStream in = entity.getContent();
            body = in.readNBytes(maxBody + 1);
            if (body.length > maxBody) {
                upstream.setEntity(new InputStreamEntity(new SequenceInputStream(new ByteArrayInputStream(body), in),
                        entity.getContentLength(), entity.getContentType() == null ? null
                        : ContentType.parseLenient(entity.getContentType()), entity.getContentEncoding()));
                return null;
            }
        }
        try (upstream) {
            HttpHeaders.Builder kept = HttpHeaders.builder();
            Set<String> connectionListed = listedInConnection(upstream.getHeaders("Connection"));
            for (Header h : upstream.getHeaders()) {
                String n = h.getName().toLowerCase(Locale.ROOT);
                if (relaysResponseHeader(n, connectionListed) && !n.equals("content-length")) {
                    kept.add(h.getName(), h.getValue());
                }
            }
            Header type = upstream.getFirstHeader("Content-Type");
            return CachedResponse.of(upstream.getCode(), kept.build(), ByteBuffer.wrap(body),
                    type == null ? null : type.getValue());
        }
    }

    private static boolean relaysResponseHeader(String lowerName, Set<String> connectionListed) {
        return (HeaderPolicy.forwardsResponseHeader(lowerName) || lowerName.equals("date"))
                && !lowerName.startsWith("proxy-") && !connectionListed.contains(lowerName);
    }

    /** Writes a response that went through the cache: from it ({@code answer} null) or from the upstream. */
    private void writeCached(Request request, Response response, Callback callback, CacheResult result, Answer answer,
                             String session) {
        CachedResponse r = result.response();
        response.setStatus(r.status());
        for (HttpHeaders.Field f : r.headerFields().fields()) {
            if (!f.name().equalsIgnoreCase("content-length")) {
                response.getHeaders().add(f.name(), f.value());
            }
        }
        response.getHeaders().put("X-Cache", result.status().name());
        if (answer != null) {
            response.getHeaders().put("X-Proxy-Manager-Secret", answer.picked().lease().secretId());
            response.getHeaders().put("X-Proxy-Manager-Attempts", Integer.toString(answer.attempt()));
            if (session != null && answer.picked().moved()) {
                response.getHeaders().put("X-Proxy-Manager-Session-Moved", "true");
            }
        }
        if (session != null) {
            response.getHeaders().put("X-Proxy-Manager-Session", session);
        }
        boolean head = "HEAD".equals(request.getMethod());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, r.bodyLength());
        if (!head) {
            metrics.bytesRelayed(r.bodyLength());
        }
        response.write(true, head ? ByteBuffer.allocate(0) : r.bodyBuffer(), callback);
    }

    /** Bodies up to this size are relayed in one write; larger ones stream through a buffer this size: 16 KiB. */
    private static final int RELAY_BUFFER = 16 * 1024;

    /** What relaying a response came to: the body bytes sent, or why it stopped ({@code null}: it did not). */
    private record Relayed(long bytes, String error) {
        static final Relayed CLIENT_GONE = new Relayed(-1, "client_gone");
    }

    /** The port's own answer when the upstream's body failed before any of it was relayed. */
    private static Refused bodyFailed(IOException e) {
        return isTimeout(e)
                ? new Refused(ProxyRefusal.UPSTREAM_TIMEOUT, "the upstream's body stopped coming (read timeout)", null)
                : new Refused(ProxyRefusal.UPSTREAM_FAILED, "upstream failed (" + e.getClass().getSimpleName() + ")",
                null);
    }

    /** Relays the upstream response to the client. */
    private Relayed relay(Request request, Response response, Callback callback, ClassicHttpResponse upstream,
                          UpstreamPicker.Picked picked, int attempt, String session) {
        try {
            response.setStatus(upstream.getCode());
            Set<String> connectionListed = listedInConnection(upstream.getHeaders("Connection"));
            for (Header h : upstream.getHeaders()) {
                String n = h.getName().toLowerCase(Locale.ROOT);
                if (relaysResponseHeader(n, connectionListed)) {
                    response.getHeaders().add(h.getName(), h.getValue());
                }
            }
            response.getHeaders().put(ProxyManagerHeaders.SECRET, ProxyManagerHeaders.secretId(picked.lease().secretId()));
            response.getHeaders().put("X-Proxy-Manager-Attempts", Integer.toString(attempt));
            response.getHeaders().put("X-Cache", "MISS");
            if (session != null) {
                response.getHeaders().put("X-Proxy-Manager-Session", session);
                if (picked.moved()) {
                    response.getHeaders().put("X-Proxy-Manager-Session-Moved", "true");
                }
            }
            HttpEntity entity = upstream.getEntity();
            if (entity == null || "HEAD".equals(request.getMethod())) {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, entity == null ? 0 : Math.max(0, entity.getContentLength()));
                callback.succeeded();
                return new Relayed(0, null);
            }
            long length = entity.getContentLength();
            if (length >= 0 && length <= RELAY_BUFFER) {
                // most answers: read whole, then one last write carries head and body together, not waited for
                byte[] whole;
                try (InputStream in = entity.getContent()) {
                    whole = in.readNBytes((int) length);
                } catch (IOException e) {
                    // nothing relayed yet: the port answers itself rather than with a cut connection
                    Refused failed = bodyFailed(e);
                    response.getHeaders().clear();
                    answer(request, response, callback, failed);
                    return new Relayed(-1, failed.refusal().token());
                }
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
                AtomicBoolean clientGone = new AtomicBoolean(); // a write to a client that left fails at once
                response.write(true, ByteBuffer.wrap(whole), Callback.from(callback::succeeded, x -> {
                    clientGone.set(true);
                    callback.failed(x);
                }));
                if (clientGone.get()) {
                    return Relayed.CLIENT_GONE;
                }
                metrics.bytesRelayed(whole.length);
                return new Relayed(whole.length, null);
            }
            if (length >= 0) {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
            }
            long copied = 0;
            InputStream in = entity.getContent(); // closed with the upstream response
            OutputStream out = Content.Sink.asOutputStream(response);
            byte[] buffer = new byte[RELAY_BUFFER];
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (IOException e) {
                    // part of the body may have gone out: all the client can be told is a cut connection
                    metrics.bytesRelayed(copied);
                    callback.failed(e);
                    return new Relayed(-1, bodyFailed(e).refusal().token());
                }
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                copied += n;
            }
            out.close(); // the last write: the response is complete
            metrics.bytesRelayed(copied);
            callback.succeeded();
            return new Relayed(copied, null);
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
            return Relayed.CLIENT_GONE;
        } finally {
            close(upstream);
        }
    }

    private static void discard(ClassicHttpResponse upstream) {
        try {
            EntityUtils.consume(upstream.getEntity());
        } catch (IOException e) {
            // the connection is dropped from the pool; nothing else to do
        } finally {
            close(upstream);
        }
    }

    /** Closes an upstream response; failing to (its body was cut) only drops its connection from the pool. */
    private static void close(ClassicHttpResponse upstream) {
        try {
            upstream.close();
        } catch (IOException e) {
            // nothing the client or the outcome depends on
        }
    }

    /**
     * The quota signals of a site's response, read as every route reads them ({@link QuotaHeaders#read(HttpHeaders,
     * String, long)} with the endpoint's {@code quota_headers} and {@code cost_header}), on the engine's clock.
     */
    private QuotaReading quotaReading(EndpointConfig endpoint, ClassicHttpResponse upstream) {
        if (!endpoint.quotaHeaders().enabled() && endpoint.costHeader() == null) {
            return QuotaReading.NONE;
        }
        HttpHeaders.Builder headers = HttpHeaders.builder();
        for (Header h : upstream.getHeaders()) {
            headers.add(h.getName(), h.getValue());
        }
        return endpoint.quotaHeaders().read(headers.build(), endpoint.costHeader(), manager.engine().clock().nanoTime());
    }

    private static Duration retryAfter(ClassicHttpResponse r) {
        Header h = r.getFirstHeader("Retry-After");
        if (h == null) {
            return null;
        }
        try {
            long s = Long.parseLong(h.getValue().strip());
            return s >= 0 ? Duration.ofSeconds(s) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The client's headers that may reach the site: no hop-by-hop, no {@code Proxy-*}, none of ours. */
    static List<Map.Entry<String, String>> requestHeaders(Request request) {
        Set<String> connectionListed = new HashSet<>();
        for (String v : request.getHeaders().getValuesList(HttpHeader.CONNECTION)) {
            for (String t : v.split(",")) {
                connectionListed.add(t.strip().toLowerCase(Locale.ROOT));
            }
        }
        List<Map.Entry<String, String>> out = new ArrayList<>();
        request.getHeaders().forEach(f -> {
            String n = f.getLowerCaseName();
            if (HeaderPolicy.forwardsRequestHeader(n, false) && !n.startsWith("proxy-") && !n.equals("via")
                    && !connectionListed.contains(n)) {
                out.add(Map.entry(f.getName(), f.getValue()));
            }
        });
        List<String> via = request.getHeaders().getValuesList(HttpHeader.VIA);
        out.add(Map.entry("Via", (via.isEmpty() ? "" : String.join(", ", via) + ", ") + "1.1 " + VIA_TOKEN));
        return out;
    }

    private static Set<String> listedInConnection(Header[] connection) {
        Set<String> out = new HashSet<>();
        for (Header h : connection) {
            for (String t : h.getValue().split(",")) {
                out.add(t.strip().toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private byte[] readBody(Request request) throws IOException {
        long declared = request.getLength();
        if (declared == 0 || (declared < 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
            // no body (RFC 9112 6.3): no stream and buffers to find that out, for most requests a proxy sees
            return NO_BODY;
        }
        if (declared > maxRequestBytes) {
            throw new RequestTooLargeException("request body of " + declared + " bytes is over max_request_bytes ("
                    + maxRequestBytes + ")");
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxRequestBytes + 1));
            if (body.length > maxRequestBytes) {
                throw new RequestTooLargeException("request body is over max_request_bytes (" + maxRequestBytes + ")");
            }
            return body;
        }
    }

    private static final byte[] NO_BODY = new byte[0];

    private static final class RequestTooLargeException extends IOException {
        RequestTooLargeException(String message) {
            super(message);
        }
    }

    // ---------------------------------------------------------------- intercepted TLS

    /**
     * A request read from inside an intercepted tunnel: sent to the CONNECT's target (already admitted and checked,
     * whatever its Host header says) over https, exactly like a plain proxied request.
     */
    private void handleIntercepted(Request request, Response response, Callback callback, Admitted tunnel) {
        if ("CONNECT".equals(request.getMethod())) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST, "CONNECT inside an intercepted tunnel");
            return;
        }
        String session = tunnel.session() != null ? tunnel.session()
                : request.getHeaders().get("X-Proxy-Manager-Session");
        Admitted admitted = new Admitted(tunnel.endpoint(), session == null || session.isBlank() ? null : session,
                tunnel.host(), tunnel.port());
        byte[] body;
        try {
            body = readBody(request);
        } catch (RequestTooLargeException e) {
            refuse(request, response, callback, ProxyRefusal.REQUEST_TOO_LARGE, e.getMessage());
            return;
        } catch (IOException e) {
            callback.failed(e);
            return;
        }
        String host = tunnel.host().contains(":") && !tunnel.host().startsWith("[") ? "[" + tunnel.host() + "]"
                : tunnel.host();
        String pathQuery = request.getHttpURI().getPathQuery();
        URI target;
        try {
            target = new URI("https://" + host + (tunnel.port() == 443 ? "" : ":" + tunnel.port())
                    + (pathQuery == null || pathQuery.isEmpty() ? "/" : pathQuery));
        } catch (URISyntaxException e) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST, "malformed target URL");
            return;
        }
        forward(request, response, callback, admitted, target, body);
    }

    // ---------------------------------------------------------------- CONNECT

    @Override
    protected void handleConnect(Request request, Response response, Callback callback, String serverAddress) {
        HostPort hostPort;
        try {
            hostPort = new HostPort(serverAddress);
        } catch (IllegalArgumentException e) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST, "CONNECT needs host:port");
            return;
        }
        if (!hostPort.hasPort()) {
            refuse(request, response, callback, ProxyRefusal.BAD_REQUEST, "CONNECT needs host:port");
            return;
        }
        Admitted admitted = admit(request, response, callback, hostPort.getHost(), hostPort.getPort(), null);
        if (admitted == null) {
            return;
        }
        if (interception != null && interception.intercepts(admitted.endpoint(), admitted.host())) {
            metrics.tunnelIntercepted();
            interception.takeOver(request, response, callback, admitted.host(), admitted);
            return;
        }
        request.setAttribute(TUNNEL, new TunnelState(admitted, clock.nanoTime(), clock.now()));
        super.handleConnect(request, response, callback, serverAddress);
    }

    /** One tunnel's state, from CONNECT to close. */
    private static final class TunnelState {
        final Admitted admitted;
        final long startedNanos;
        final Instant startedAt;
        volatile UpstreamPicker.Picked picked;
        volatile ProxyRefusal failure;
        volatile String failureReason;
        volatile Duration retryAfter;
        volatile int attempts;
        final AtomicLong fromClient = new AtomicLong();
        final AtomicLong fromSite = new AtomicLong();
        final AtomicBoolean closed = new AtomicBoolean();
        volatile EndPoint clientEndPoint;

        TunnelState(Admitted admitted, long startedNanos, Instant startedAt) {
            this.admitted = admitted;
            this.startedNanos = startedNanos;
            this.startedAt = startedAt;
        }
    }

    @Override
    protected void connectToServer(Request request, String host, int port, Promise<SocketChannel> promise) {
        TunnelState tunnel = (TunnelState) request.getAttribute(TUNNEL);
        EndpointConfig endpoint = tunnel.admitted.endpoint();
        int maxAttempts = 1 + endpoint.retry().maxRetries(); // nothing was sent to the site yet: always retriable
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            tunnel.attempts = attempt;
            UpstreamPicker.Pick pick = picker.pick(endpoint, tunnel.admitted.host(), tunnel.admitted.session(), attempt > 1);
            if (pick instanceof UpstreamPicker.NoneFree none) {
                if (attempt == 1) {
                    tunnel.failure = ProxyRefusal.NO_PROXY_AVAILABLE;
                    tunnel.failureReason = none.reason();
                    tunnel.retryAfter = none.retryAfter();
                } else {
                    tunnel.failureReason += "; no other proxy free to retry on";
                }
                break;
            }
            UpstreamPicker.Picked picked = (UpstreamPicker.Picked) pick;
            try {
                SocketChannel channel = UpstreamTunnel.open(picked.proxy(), host, port, endpoint.timeouts().connect(),
                        endpoint.timeouts().read());
                picker.release(picked, Outcome.success(), UpstreamPicker.Answerer.UPSTREAM_PROXY);
                tunnel.picked = picked;
                promise.succeeded(channel);
                return;
            } catch (UpstreamConnectException e) {
                picker.release(picked, Outcome.status(e.status()), UpstreamPicker.Answerer.UPSTREAM_PROXY);
                tunnel.failure = ProxyRefusal.UPSTREAM_FAILED;
                tunnel.failureReason = "upstream proxy " + picked.lease().secretId() + " answered CONNECT with "
                        + e.status();
            } catch (IOException e) {
                boolean timeout = isTimeout(e);
                picker.release(picked, timeout ? Outcome.timeout() : Outcome.connectionError(),
                        UpstreamPicker.Answerer.UPSTREAM_PROXY);
                tunnel.failure = timeout ? ProxyRefusal.UPSTREAM_TIMEOUT : ProxyRefusal.UPSTREAM_FAILED;
                tunnel.failureReason = "upstream proxy " + picked.lease().secretId()
                        + (timeout ? " timed out" : " failed (" + e.getClass().getSimpleName() + ")");
            }
            tunnel.picked = picked;
        }
        promise.failed(new IOException(tunnel.failureReason));
    }

    @Override
    protected void onConnectFailure(Request request, Response response, Callback callback, Throwable failure) {
        TunnelState tunnel = (TunnelState) request.getAttribute(TUNNEL);
        ProxyRefusal refusal = tunnel == null || tunnel.failure == null ? ProxyRefusal.UPSTREAM_FAILED : tunnel.failure;
        String reason = tunnel == null || tunnel.failureReason == null ? "tunnel failed" : tunnel.failureReason;
        if (tunnel != null) {
            logTunnel(tunnel, refusal);
            if (refusal == ProxyRefusal.NO_PROXY_AVAILABLE) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, Math.max(1, tunnel.retryAfter.toSeconds()
                        + (tunnel.retryAfter.toNanosPart() > 0 ? 1 : 0)));
            }
        }
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        refuse(request, response, callback, refusal, reason);
    }

    @Override
    protected void onConnectSuccess(ConnectContext context, UpstreamConnection upstream) {
        TunnelState tunnel = (TunnelState) context.getRequest().getAttribute(TUNNEL);
        context.getContext().put(TUNNEL, tunnel);
        tunnel.clientEndPoint = context.getEndPoint();
        Response response = context.getResponse();
        response.getHeaders().put(ProxyManagerHeaders.SECRET, ProxyManagerHeaders.secretId(tunnel.picked.lease().secretId()));
        response.getHeaders().put("X-Proxy-Manager-Attempts", Integer.toString(tunnel.attempts));
        metrics.tunnelOpened();
        super.onConnectSuccess(context, upstream);
    }

    @Override
    protected DownstreamConnection newDownstreamConnection(EndPoint endPoint, ConcurrentMap<String, Object> context) {
        return new DownstreamConnection(endPoint, getExecutor(), getByteBufferPool(), context) {
            @Override
            public void onClose(Throwable cause) {
                super.onClose(cause);
                if (context.get(TUNNEL) instanceof TunnelState t && t.closed.compareAndSet(false, true)) {
                    metrics.tunnelClosed(t.fromClient.get() + t.fromSite.get());
                    logTunnel(t, OutcomeKind.SUCCESS);
                }
            }
        };
    }

    @Override
    protected int read(EndPoint endPoint, ByteBuffer buffer, ConcurrentMap<String, Object> context) throws IOException {
        int n = super.read(endPoint, buffer, context);
        if (n > 0 && context.get(TUNNEL) instanceof TunnelState t) {
            (endPoint == t.clientEndPoint ? t.fromClient : t.fromSite).addAndGet(n);
        }
        return n;
    }

    private void logTunnel(TunnelState t, ProxyRefusal refusal) {
        logTunnel(t, refusal.outcome(), refusal.token());
    }

    private void logTunnel(TunnelState t, OutcomeKind outcome) {
        logTunnel(t, outcome, null);
    }

    private void logTunnel(TunnelState t, OutcomeKind outcome, String error) {
        RequestLog log = manager.requestLog();
        if (log == null) {
            return;
        }
        try {
            String target = t.admitted.host() + ":" + t.admitted.port();
            RequestLogEntry.Builder b = RequestLogEntry.builder()
                    .withTimestamp(t.startedAt)
                    .withEndpoint(t.admitted.endpoint().name())
                    .withMethod("CONNECT")
                    .withUrl("https://" + target)
                    .withHost(t.admitted.host())
                    .withSecretType(SecretType.PROXY.jsonName())
                    .withLatencyMs((clock.nanoTime() - t.startedNanos) / 1_000_000)
                    .withBytes(t.fromClient.get() + t.fromSite.get())
                    .withAttempt(Math.max(1, t.attempts))
                    .withOutcome(outcome)
                    .withErrorType(error);
            if (t.picked != null) {
                b.withSecretId(t.picked.lease().secretId()).withProxyId(t.picked.lease().secretId());
            }
            log.record(b.build());
        } catch (RuntimeException e) {
            LOG.warn("tunnel log entry for endpoint {} not recorded: {}", t.admitted.endpoint().name(), e.toString());
        }
    }

    // ---------------------------------------------------------------- common

    /**
     * Identifies the client, checks the endpoint and the target; answers and returns {@code null} when refused.
     */
    private Admitted admit(Request request, Response response, Callback callback, String host, int port,
                           String plainSession) {
        InetAddress clientAddress = clientAddress(request);
        ProxyClient.Identity identity = clients.identify(request.getHeaders().get(HttpHeader.PROXY_AUTHORIZATION),
                clientAddress);
        if (identity instanceof ProxyClient.Unknown unknown) {
            response.getHeaders().put(HttpHeader.PROXY_AUTHENTICATE, "Basic realm=\"proxy-manager\"");
            refuse(request, response, callback, ProxyRefusal.AUTHENTICATION_REQUIRED, unknown.reason());
            return null;
        }
        ProxyClient.Known known = (ProxyClient.Known) identity;
        EndpointConfig endpoint = manager.endpoints().get(known.endpoint());
        if (endpoint == null || endpoint.type() != SecretType.PROXY) {
            response.getHeaders().put(HttpHeader.PROXY_AUTHENTICATE, "Basic realm=\"proxy-manager\"");
            refuse(request, response, callback, ProxyRefusal.UNKNOWN_ENDPOINT,
                    "no proxy endpoint named '" + known.endpoint() + "'");
            return null;
        }
        for (String via : request.getHeaders().getValuesList(HttpHeader.VIA)) {
            if (via.toLowerCase(Locale.ROOT).contains(VIA_TOKEN)) {
                refuse(request, response, callback, ProxyRefusal.TARGET_REFUSED, "request loops back through this proxy");
                return null;
            }
        }
        TargetPolicy.Decision decision = targets.check(endpoint, host, port);
        if (decision instanceof TargetPolicy.Refused refused) {
            metrics.targetRefused();
            LOG.atInfo().setMessage("proxy target refused").addKeyValue("endpoint", endpoint.name())
                    .addKeyValue("target_host", host).addKeyValue("target_port", port)
                    .addKeyValue("reason", refused.reason()).log();
            refuse(request, response, callback, ProxyRefusal.TARGET_REFUSED, refused.reason());
            return null;
        }
        String session = known.session() != null ? known.session() : plainSession;
        return new Admitted(endpoint, session == null || session.isBlank() ? null : session, host, port);
    }

    private static InetAddress clientAddress(Request request) {
        SocketAddress a = request.getConnectionMetaData().getRemoteSocketAddress();
        return a instanceof InetSocketAddress isa ? isa.getAddress() : null;
    }

    private void noneFree(Request request, Response response, Callback callback, UpstreamPicker.NoneFree none) {
        Duration d = none.retryAfter();
        response.getHeaders().put(HttpHeader.RETRY_AFTER, Math.max(1, d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0)));
        refuse(request, response, callback, ProxyRefusal.NO_PROXY_AVAILABLE, none.reason());
    }

    /** Sends one of the proxy's own answers: status, {@code X-Proxy-Manager-Error} and the reason as text. */
    private static void refuse(Request request, Response response, Callback callback, ProxyRefusal refusal,
                               String reason) {
        response.setStatus(refusal.status());
        response.getHeaders().put(ProxyRefusal.ERROR_HEADER, refusal.token());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private void log(EndpointConfig endpoint, String method, URI target, UpstreamPicker.Picked picked, Integer status,
                     long startedNanos, Instant sentAt, Long bytes, int attempt, OutcomeKind outcome, String error,
                     String cache) {
        log(endpoint, method, target, picked, status, startedNanos, sentAt, bytes, attempt, outcome, error, cache,
                QuotaReading.NONE);
    }

    /** @param quota what the site's response reported of the proxy's quota there */
    private void log(EndpointConfig endpoint, String method, URI target, UpstreamPicker.Picked picked, Integer status,
                     long startedNanos, Instant sentAt, Long bytes, int attempt, OutcomeKind outcome, String error,
                     String cache, QuotaReading quota) {
        RequestLog log = manager.requestLog();
        if (log == null) {
            return;
        }
        try {
            log.record(RequestLogEntry.builder()
                    .withTimestamp(sentAt)
                    .withEndpoint(endpoint.name())
                    .withMethod(method)
                    // the query may carry the site's own secrets: keep it out of the log
                    .withUrl(target.getScheme() + "://" + target.getRawAuthority() + target.getRawPath())
                    .withHost(target.getHost())
                    .withSecretType(SecretType.PROXY.jsonName())
                    .withSecretId(picked == null ? null : picked.lease().secretId())
                    .withProxyId(picked == null ? null : picked.lease().secretId())
                    .withStatus(status)
                    .withLatencyMs(attempt == 0 ? null : (clock.nanoTime() - startedNanos) / 1_000_000)
                    .withBytes(bytes)
                    .withCache(cache)
                    .withAttempt(attempt)
                    .withOutcome(outcome)
                    .withErrorType(error)
                    .withUpstreamQuota(quota)
                    .build());
        } catch (RuntimeException e) {
            LOG.warn("request log entry for endpoint {} not recorded: {}", endpoint.name(), e.toString());
        }
    }

    private static boolean isTimeout(IOException e) {
        return e instanceof InterruptedIOException
                || (e.getCause() instanceof InterruptedIOException);
    }

    /**
     * The plain path blocks (the upstream exchange), so Jetty must not run it on a selector thread: a wrapper without
     * a child otherwise reports NON_BLOCKING, and every plain request of the port then ran one at a time.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }

    /** See {@link ForwardProxyServer#siteUnavailable}. */
    java.util.Map<String, List<dev.proxymanager.middleware.rotation.SecretStats>> siteUnavailable(String endpoint) {
        return sites.unavailable(endpoint);
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        http.close();
        sites.close();
    }
}
