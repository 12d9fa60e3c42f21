package dev.proxymanager.server.forward;

import dev.proxymanager.middleware.Call;
import dev.proxymanager.middleware.NoSecretAvailableException;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.ProxyManager;
import dev.proxymanager.middleware.Request;
import dev.proxymanager.middleware.Response;
import dev.proxymanager.middleware.SendOptions;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.transport.ForbiddenTargetException;
import org.eclipse.jetty.io.ByteBufferInputStream;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link Forwarder} over the library's {@link ProxyManager}: the same rotation, key injection, proxy routing and
 * retries as library users get, plus its response cache ({@code X-Cache: HIT}) and request log in Elasticsearch when
 * the manager has them. Header fields pass through in order with repeated names kept. Bodies are held once: the
 * request body goes to the transport without a copy, and the response body the library read (its {@code Response}
 * holds it whole) is relayed from its buffer; {@code max_response_bytes} is checked after the read.
 *
 * <p>The manager should be built with a zero {@code maxWait}, so "no secret free" becomes a 429 at once rather than
 * a held request. This class is threadsafe.
 */
public final class ProxyManagerForwarder implements Forwarder {

    private final ProxyManager manager;

    /** @param manager the long-lived manager; closed by {@link #close()} */
    public ProxyManagerForwarder(ProxyManager manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    @Override
    public ForwardResult forward(ForwardRequest request) {
        EndpointConfig endpoint = endpointConfig(request.endpoint());
        SendOptions options = SendOptions.defaults().withNoCache(!request.useCache());
        if (request.cost() > 0) {
            options = options.withCost(request.cost());
        }
        try (Request session = manager.request(endpoint.type(), endpoint.name(), request.useCache())) {
            Response r = session.send(new Call(request.method(), request.target().toString(), request.headers(), null,
                    request.body().length == 0 ? null : request.body(), options));
            ByteBuffer body = r.bodyBuffer();
            return new ForwardResult.Response(r.status(), r.headerFields(), new ByteBufferInputStream(body),
                    body.remaining(), r.fromCache(), r.fromCache() ? null : r.secretId(), r.attempts(), r.outcome());
        } catch (NoSecretAvailableException e) {
            return new ForwardResult.NoSecret(e.reason(), e.retryAfter());
        } catch (ForbiddenTargetException e) {
            return new ForwardResult.Refused(e.getMessage());
        } catch (IOException e) {
            boolean timeout = e instanceof SocketTimeoutException || e instanceof InterruptedIOException;
            return new ForwardResult.Failed(timeout ? OutcomeKind.TIMEOUT : OutcomeKind.CONNECTION_ERROR, (timeout ? "upstream timed out" : "upstream unreachable")
                    + " (" + e.getClass().getSimpleName() + ") for endpoint " + endpoint.name(), 1 + endpoint.retry().maxRetries());
        }
    }

    @Override
    public Set<String> endpoints() {
        return manager.endpoints().keySet();
    }

    @Override
    public EndpointConfig endpointConfig(String endpoint) {
        EndpointConfig c = manager.endpoints().get(endpoint);
        if (c == null) {
            throw new UnknownEndpointException("no endpoint named '" + endpoint + "'; known endpoints: "
                    + new java.util.TreeSet<>(manager.endpoints().keySet()));
        }
        return manager.endpoint(endpoint);
    }

    @Override
    public void updateEndpoint(EndpointConfig config) {
        Map<String, EndpointConfig> all = new LinkedHashMap<>(manager.endpoints());
        all.put(config.name(), config);
        manager.replaceSecrets(new SecretsConfig(settings, all));
    }

    @Override
    public void replaceSecrets(SecretsConfig config) {
        // the usage store is chosen at start; a reloaded file cannot switch it
        manager.replaceSecrets(new SecretsConfig(settings, config.endpoints()));
    }

    private volatile dev.proxymanager.middleware.config.UsageStoreSettings settings =
            dev.proxymanager.middleware.config.UsageStoreSettings.DEFAULT;

    /** The usage-store settings to keep when endpoints are replaced live (from secrets.json). */
    public ProxyManagerForwarder withUsageStoreSettings(dev.proxymanager.middleware.config.UsageStoreSettings s) {
        this.settings = Objects.requireNonNull(s, "settings");
        return this;
    }

    private volatile java.util.function.Function<String, Map<String, List<SecretStats>>> siteStats = e -> Map.of();

    /** Where {@link #siteCooldowns} reads per-site state: the proxy port's, once it runs. */
    public void withSiteStats(java.util.function.Function<String, Map<String, List<SecretStats>>> siteStats) {
        this.siteStats = java.util.Objects.requireNonNull(siteStats, "siteStats");
    }

    @Override
    public Map<String, List<Map<String, Object>>> siteCooldowns(String endpoint) {
        Map<String, List<Map<String, Object>>> out = new java.util.TreeMap<>();
        siteStats.apply(endpoint).forEach((host, stats) -> out.put(host, describe(stats)));
        return out;
    }

    @Override
    public Map<String, Long> reportedRemaining(String endpoint) {
        return manager.engine().reportedRemaining(endpoint);
    }

    @Override
    public List<Map<String, Object>> secretStats(String endpoint) {
        endpointConfig(endpoint);
        return describe(manager.stats(endpoint));
    }

    @Override
    public Map<String, String> storeStates() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("request_log", manager.requestLog() == null ? "off" : "up");
        m.put("cache", manager.cache() == null ? "off" : "up");
        return m;
    }

    @Override
    public void close() {
        manager.close();
    }

    /** What the upstream last reported about a key's quota, beside our counts; null when no report holds. */
    private static Map<String, Object> upstream(SecretStats.UpstreamQuotaView q) {
        if (q == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy", q.policy());
        m.put("limit", q.limit() < 0 ? null : q.limit());
        m.put("remaining", q.remaining());
        m.put("reset", q.resetAt().toString());
        m.put("learned_at", q.learnedAt().toString());
        return m;
    }

    /** Per-secret stats as JSON-ready maps: ids, masked values and counts, never a clear value. */
    static List<Map<String, Object>> describe(List<SecretStats> stats) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (SecretStats s : stats) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.secretId());
            m.put("masked_value", s.maskedValue());
            m.put("state", s.cause().wireName());
            m.put("binding_limit", s.binding() == null ? null : s.binding().limit().describe());
            m.put("total_uses", s.totalUses());
            m.put("in_use", s.inUse());
            m.put("successes", s.successes());
            m.put("failures", s.failures());
            m.put("consecutive_failures", s.consecutiveFailures());
            List<Map<String, Object>> windows = new ArrayList<>();
            for (SecretStats.WindowUsage w : s.windows()) {
                windows.add(Map.of("limit", w.limit().describe(), "uses", w.uses(), "max", w.limit().requests()));
            }
            m.put("windows", windows);
            m.put("cooling_down_until", s.coolingDownUntil() == null ? null : s.coolingDownUntil().toString());
            m.put("next_available", s.nextAvailable() == null ? null : s.nextAvailable().toString());
            m.put("upstream", upstream(s.upstream()));
            if (!s.routes().isEmpty()) {
                List<Map<String, Object>> routes = new ArrayList<>();
                for (SecretStats.RouteUsage r : s.routes()) {
                    List<Map<String, Object>> rw = new ArrayList<>();
                    for (SecretStats.WindowUsage w : r.windows()) {
                        rw.add(Map.of("limit", w.limit().describe(), "uses", w.uses(), "max", w.limit().requests()));
                    }
                    Map<String, Object> route = new LinkedHashMap<>();
                    route.put("match", r.match());
                    route.put("windows", rw);
                    route.put("upstream", upstream(r.upstream())); // the upstream's report for this bucket's calls
                    routes.add(route);
                }
                m.put("routes", routes);
            }
            if (s.group() != null) {
                List<Map<String, Object>> shared = new ArrayList<>();
                for (SecretStats.WindowUsage w : s.group().windows()) {
                    shared.add(Map.of("limit", w.limit().describe(), "uses", w.uses(), "max", w.limit().requests()));
                }
                Map<String, Object> group = new LinkedHashMap<>();
                group.put("name", s.group().name());
                group.put("windows", shared);
                m.put("group", group);
            }
            out.add(m);
        }
        return out;
    }
}
