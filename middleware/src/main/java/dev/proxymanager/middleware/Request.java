package dev.proxymanager.middleware;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.transport.UserAgents;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session against one endpoint, the Java form of the original {@code Request(key_or_ip, endpoint, cache)}:
 * {@link #getKeyProxy()} tells the secret to use, {@link #send} sends with the endpoint's secret applied (API key
 * placed in its header or query parameter, or the request routed through the chosen proxy), retrying on another
 * secret after a ban, a connection failure or a timeout. {@link #close()} gives back what it holds.
 *
 * <p>Created by {@link ProxyManager#request}. This class is <em>not</em> threadsafe: use one per thread.
 * {@link #sendAsync} and {@link #sendAll} run on the manager's threads and do not touch this request's sticky
 * secret, so they may be called while others are in flight.
 */
public final class Request implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Request.class);

    private final ProxyManager manager;
    private final EndpointConfig endpoint;
    private final boolean cache;
    /** The secret handed out by {@link #getKeyProxy()}, not yet used by a send. */
    private SecretLease pending;
    /** The secret this session stays on while it is usable: sticky, like the original's session. */
    private String stickyId;
    private boolean closed;

    Request(ProxyManager manager, EndpointConfig endpoint, boolean cache) {
        this.manager = manager;
        this.endpoint = endpoint;
        this.cache = cache;
    }

    /** The endpoint's name. */
    public String endpoint() {
        return endpoint.name();
    }

    /**
     * The secret to use now — an API key, or a proxy URL — chosen by the rotation engine (the least used one
     * under its limits, by default). The next {@link #send} uses this same secret; a caller who places the key by
     * hand counts as having used it. Calling it again moves on to another, and the one not sent with keeps its use
     * counted (you may have placed it by hand); one a send replaces (below) is given back.
     *
     * @return the secret's clear value; never log it
     * @throws NoSecretAvailableException if none frees up within the manager's bounded wait
     * @throws IllegalStateException if this request is closed
     */
    public String getKeyProxy() {
        ensureOpen();
        if (pending != null) {
            // its value went to the caller, who may have placed it by hand: its use stays counted
            manager.engine().release(pending, Outcome.unanswered());
            pending = null;
        }
        pending = manager.dispatcher().acquire(endpoint.name());
        stickyId = pending.secretId();
        return pending.value();
    }

    /**
     * Sets {@code User-Agent} in {@code headers} to a realistic browser string, picked at random.
     *
     * @return {@code headers}, for chaining
     */
    public Map<String, String> addUserAgent(Map<String, String> headers) {
        Objects.requireNonNull(headers, "headers");
        headers.keySet().removeIf(k -> k.equalsIgnoreCase("User-Agent"));
        headers.put("User-Agent", UserAgents.random(ThreadLocalRandom.current()));
        return headers;
    }

    /** Sends with no query parameters and default options. See {@link #send(String, String, Map, Map, Object, SendOptions)}. */
    public Response send(String method, String url, Map<String, String> headers, Object body) throws IOException {
        return send(method, url, headers, null, body, SendOptions.defaults());
    }

    /** Sends with query parameters and default options. See {@link #send(String, String, Map, Map, Object, SendOptions)}. */
    public Response send(String method, String url, Map<String, String> headers, Map<String, String> params,
                         Object body) throws IOException {
        return send(method, url, headers, params, body, SendOptions.defaults());
    }

    /**
     * Sends one request with the endpoint's secret applied. With the cache on (for this request, the manager and
     * the endpoint's policy), a fresh stored response for the same method, URL, parameters, body and vary headers is
     * returned without calling the upstream ({@link Response#fromCache()}).
     *
     * <p>On a ban status (the endpoint's {@code ban_statuses}, and 429), a connection failure or a timeout, the
     * secret is reported to the engine (cooldown, {@code Retry-After} honoured) and the request is retried on
     * another secret up to {@code retry.max_retries} times with exponential backoff and jitter — never for a
     * non-idempotent method unless {@code retry_non_idempotent}. When retries run out on a ban status, that
     * response is returned.
     *
     * @param method the HTTP method
     * @param url an absolute URL; for a key endpoint its host must be one of the endpoint's allowed hosts
     * @param headers request headers, or null
     * @param params query parameters added to the URL's, or null
     * @param body a {@code String}, {@code byte[]}, {@code Map} (form-encoded) or Jackson {@code JsonNode}, or null
     * @param options timeout and cache use for this call, or null for defaults
     * @throws IOException if the last attempt failed to connect, timed out or could not read the response
     * @throws NoSecretAvailableException if no secret frees up within the manager's bounded wait
     * @throws IllegalArgumentException for a bad URL, a host the endpoint's keys may not go to, or a bad body type
     * @throws IllegalStateException if this request is closed
     */
    public Response send(String method, String url, Map<String, String> headers, Map<String, String> params,
                         Object body, SendOptions options) throws IOException {
        return send(new Call(method, url, headers, params, body, options));
    }

    /**
     * Sends {@code call}: as {@link #send(String, String, Map, Map, Object, SendOptions)}, with its headers as ordered
     * fields in which a name may repeat (two {@code Cookie} fields are sent as two).
     */
    public Response send(Call call) throws IOException {
        ensureOpen();
        Objects.requireNonNull(call, "call");
        return manager.dispatcher().send(endpoint, checked(call), cache, (e, retry, route) -> {
            SecretLease l;
            if (!retry && pending != null && manager.engine().countsAs(pending, route)) {
                l = pending;
                pending = null;
            } else {
                if (pending != null) {
                    // handed out for this send before the call was known (it counts in other buckets or at another
                    // cost): nothing went out with it, its use is given back
                    manager.engine().release(pending, Outcome.unused());
                    pending = null;
                }
                // after a failed attempt, move on; otherwise stay on the session's secret while it is usable
                l = manager.dispatcher().acquire(e.name(), retry ? null : stickyId, route);
            }
            stickyId = l.secretId();
            return l;
        });
    }

    /**
     * Sends {@code call} on the manager's threads; the future completes with the response or fails with what
     * {@link #send} would throw. Does not use this request's sticky secret.
     *
     * @throws IllegalStateException if this request is closed
     */
    public CompletableFuture<Response> sendAsync(Call call) {
        ensureOpen();
        Call c = checked(Objects.requireNonNull(call, "call"));
        return CompletableFuture.supplyAsync(() -> sendDetached(c), manager.executor());
    }

    /** {@link #sendAsync(Call)} with the arguments of {@link #send(String, String, Map, Map, Object, SendOptions)}. */
    public CompletableFuture<Response> sendAsync(String method, String url, Map<String, String> headers,
                                                 Map<String, String> params, Object body, SendOptions options) {
        return sendAsync(new Call(method, url, headers, params, body, options));
    }

    /**
     * Sends a batch with at most {@code concurrency} calls in flight, and waits for all of them.
     * For an endpoint with exclusive leases, a concurrency above the number of secrets is reduced to it (more
     * could only wait), with a warning.
     *
     * @param calls the calls, in order
     * @param concurrency the most calls in flight, at least 1
     * @param progress told after each call finishes (from worker threads), or null
     * @return one result per call, in input order: its response or its error
     * @throws IllegalArgumentException if {@code concurrency < 1}
     * @throws IllegalStateException if this request is closed
     * @throws java.util.concurrent.CancellationException if interrupted while waiting (calls in flight are
     *                                                    cancelled)
     */
    public List<CallResult> sendAll(List<Call> calls, int concurrency, ProgressListener progress) {
        ensureOpen();
        Objects.requireNonNull(calls, "calls");
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
        }
        int effective = effectiveConcurrency(concurrency);
        ProgressListener listener = progress == null ? ProgressListener.none() : progress;
        int total = calls.size();
        List<CallResult> results = new ArrayList<>(java.util.Collections.nCopies(total, null));
        Semaphore permits = new Semaphore(effective);
        AtomicInteger completed = new AtomicInteger();
        try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < total; i++) {
                int index = i;
                Call call = calls.get(i);
                permits.acquireUninterruptibly();
                workers.execute(() -> {
                    CallResult r;
                    try {
                        r = CallResult.of(index, sendDetached(checked(call)));
                    } catch (CompletionException e) {
                        r = CallResult.failed(index, e.getCause());
                    } catch (RuntimeException e) {
                        r = CallResult.failed(index, e);
                    } finally {
                        permits.release();
                    }
                    synchronized (results) {
                        results.set(index, r);
                    }
                    try {
                        listener.onProgress(completed.incrementAndGet(), total);
                    } catch (RuntimeException e) {
                        LOG.warn("progress listener failed: {}", e.toString());
                    }
                });
            }
        }
        synchronized (results) {
            return List.copyOf(results);
        }
    }

    /** The concurrency {@link #sendAll} uses for a requested one. */
    int effectiveConcurrency(int requested) {
        if (endpoint.lease() != LeaseMode.EXCLUSIVE) {
            return requested;
        }
        int secrets = Math.max(1, manager.engine().secretCount(endpoint.name()));
        if (requested > secrets) {
            LOG.warn("endpoint {} leases secrets exclusively: concurrency {} reduced to its {} secrets",
                    endpoint.name(), requested, secrets);
            return secrets;
        }
        return requested;
    }

    private Response sendDetached(Call call) {
        try {
            return manager.dispatcher().send(endpoint, call, cache,
                    (e, retry, route) -> manager.dispatcher().acquire(e.name(), null, route));
        } catch (IOException e) {
            throw new CompletionException(e);
        } catch (UncheckedIOException e) {
            throw new CompletionException(e.getCause());
        }
    }

    /** Keys go only to the endpoint's hosts: refuse the call rather than send it without its key. */
    private Call checked(Call call) {
        if (endpoint.type() == SecretType.KEY) {
            String host = host(call);
            if (!endpoint.allowsHost(host)) {
                throw new IllegalArgumentException("host " + host + " is not an allowed host of endpoint '"
                        + endpoint.name() + "' " + endpoint.allowedHosts() + "; its keys are not sent elsewhere");
            }
        }
        return call;
    }

    /**
     * The call's target host. A plain URI parse finds it for the common URL; anything it cannot read (a bad URL, a
     * host such as {@code my_host} that only {@code URIBuilder} accepts) goes through the full preparation, which
     * also throws its explanatory error (preparing each call twice cost about 4 % of a forwarded request's CPU).
     */
    private static String host(Call call) {
        try {
            String host = new URI(call.url()).getHost();
            if (host != null) {
                return host;
            }
        } catch (URISyntaxException e) {
            // fall through: prepare() says what is wrong with the URL
        }
        return Dispatcher.prepare(call).uri().getHost();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("request for endpoint '" + endpoint.name() + "' is closed");
        }
    }

    /** Gives back the secret from {@link #getKeyProxy()} if a send did not use it. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pending != null) {
            // the caller may have used it by hand: count it as used, not as a failure
            manager.engine().release(pending, Outcome.success());
            pending = null;
        }
    }

    @Override
    public String toString() {
        return "Request[endpoint=" + endpoint.name() + ", cache=" + cache + ", closed=" + closed + "]";
    }
}
