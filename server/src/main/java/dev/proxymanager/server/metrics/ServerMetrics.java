package dev.proxymanager.server.metrics;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.rotation.SecretStateEvent;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.proxymanager.middleware.health.OutcomeKind;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The server's Micrometer meters, scraped as Prometheus text at {@code GET /metrics}:
 * {@code proxy_requests_seconds} (histogram, by endpoint, status and outcome), {@code proxy_secret_uses_total}
 * (by endpoint and secret id — ids only, never values), {@code proxy_cache_total} (hit/miss),
 * {@code proxy_rejections_total} (by reason), {@code proxy_circuit_breaker_state} (1 for the current state),
 * {@code proxy_inflight_requests}, {@code proxy_queued_requests}, {@code proxy_request_log_dropped_total},
 * {@code proxy_upstream_quota_remaining} (by endpoint and secret id: the units the upstream last reported left, less
 * our uses since; present while that report holds).
 * Also keeps the overall figures of {@code GET /proxy-metrics}. This class is threadsafe.
 */
public final class ServerMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer all;
    // the registry finds a meter only after building its id and sorting its tags: look ours up by a plain key first
    private final Map<RequestKey, Timer> requests = new ConcurrentHashMap<>();
    private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
    private final Map<CounterKey, AtomicLong> upstreamRemaining = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong succeeded = new AtomicLong();
    private final Clock clock;
    private final long startedNanos;

    private record RequestKey(String endpoint, int status, String outcome) {
    }

    /** {@code kind} names the counter; {@code a} and {@code b} are its tag values. */
    private record CounterKey(String kind, String a, String b) {
    }

    /** Metrics whose uptime and throughput are read on {@code clock}. */
    public ServerMetrics(Clock clock) {
        this.clock = java.util.Objects.requireNonNull(clock, "clock");
        this.startedNanos = clock.nanoTime();
        all = Timer.builder("proxy.requests.all")
                .description("Every proxied request, for overall percentiles")
                .publishPercentiles(0.5, 0.95, 0.99)
                .distributionStatisticExpiry(Duration.ofMinutes(2))
                .register(registry);
    }

    /** Records one request the upstream answered (or failed to): tagged with the outcome's wire name. */
    public void recordRequest(String endpoint, int status, OutcomeKind outcome, long nanos) {
        record(endpoint, status, outcome.wireName(), outcome == OutcomeKind.SUCCESS, nanos);
    }

    /** Records one request the server refused before the upstream: tagged with {@code reason}, never a success. */
    public void recordRequest(String endpoint, int status, String reason, long nanos) {
        record(endpoint, status, reason, false, nanos);
    }

    private void record(String endpoint, int status, String outcome, boolean success, long nanos) {
        requests.computeIfAbsent(new RequestKey(endpoint, status, outcome), k -> Timer.builder("proxy.requests")
                        .description("Requests through /proxy and /api/v1/send")
                        .tag("endpoint", k.endpoint()).tag("status", Integer.toString(k.status())).tag("outcome", k.outcome())
                        .publishPercentileHistogram()
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
        all.record(nanos, TimeUnit.NANOSECONDS);
        total.incrementAndGet();
        if (success) {
            succeeded.incrementAndGet();
        }
    }

    /** Counts one use of a secret (by id). */
    public void recordSecretUse(String endpoint, String secretId) {
        counters.computeIfAbsent(new CounterKey("secret", endpoint, secretId), k -> Counter.builder("proxy.secret.uses")
                .description("Upstream calls by secret id")
                .tag("endpoint", endpoint).tag("secret", secretId).register(registry)).increment();
    }

    /**
     * Counts a secret's state change, {@code proxy_secret_events_total{endpoint,kind}}; {@code kind} is the request
     * log's {@code event} value ({@code cooldown}, {@code ban}, {@code removed}, {@code restored}).
     */
    public void recordSecretEvent(SecretStateEvent event) {
        String kind = event.kind().logName();
        counters.computeIfAbsent(new CounterKey("secret-event", event.endpoint(), kind), k ->
                Counter.builder("proxy.secret.events")
                        .description("Secret state changes: cooldowns, bans, removals, restores")
                        .tag("endpoint", k.a()).tag("kind", k.b()).register(registry)).increment();
    }

    /** Counts a cache hit or miss. */
    public void recordCache(String endpoint, boolean hit) {
        String result = hit ? "hit" : "miss";
        counters.computeIfAbsent(new CounterKey("cache", endpoint, result), k -> Counter.builder("proxy.cache")
                .description("Cache lookups")
                .tag("endpoint", endpoint).tag("result", result).register(registry)).increment();
    }

    /** Counts a request refused before reaching the upstream ({@code queue_full}, {@code no_secret}, {@code circuit_open}, …). */
    public void recordRejection(String reason) {
        counters.computeIfAbsent(new CounterKey("rejection", reason, ""), k -> Counter.builder("proxy.rejections")
                .description("Requests refused by the server")
                .tag("reason", reason).register(registry)).increment();
    }

    /** Exposes a breaker's state as a gauge per state (1 = current). */
    public void bindBreaker(CircuitBreaker breaker) {
        for (CircuitBreaker.State s : new CircuitBreaker.State[]{CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN,
                CircuitBreaker.State.HALF_OPEN}) {
            Gauge.builder("proxy.circuit.breaker.state", breaker, b -> b.getState() == s ? 1 : 0)
                    .description("Circuit breaker state per endpoint (1 = current)")
                    .tag("endpoint", breaker.getName()).tag("state", s.name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry);
        }
    }

    /**
     * Sets {@code proxy_upstream_quota_remaining{endpoint,secret}} (secret = id) to {@code remaining}; {@code null}
     * removes it (no upstream report holds for the key).
     */
    public void upstreamQuotaRemaining(String endpoint, String secretId, Long remaining) {
        CounterKey key = new CounterKey("upstream-remaining", endpoint, secretId);
        if (remaining == null) {
            AtomicLong gone = upstreamRemaining.remove(key);
            if (gone != null) {
                registry.find("proxy.upstream.quota.remaining").tag("endpoint", endpoint).tag("secret", secretId)
                        .meters().forEach(registry::remove);
            }
            return;
        }
        upstreamRemaining.computeIfAbsent(key, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("proxy.upstream.quota.remaining", v, AtomicLong::get)
                    .description("Units of a key's quota the upstream reported left, less our uses since")
                    .tag("endpoint", endpoint).tag("secret", secretId).register(registry);
            return v;
        }).set(remaining);
    }

    /** Exposes a number read on every scrape (in-flight, queued, dropped log documents). */
    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    /** The registry, for other components to add meters. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Seed E's summary: totals, success rate, throughput and latency percentiles (recent two minutes). */
    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        long t = total.get();
        long ok = succeeded.get();
        double seconds = Math.max(1e-3, (clock.nanoTime() - startedNanos) / 1e9);
        m.put("total_requests", t);
        m.put("successful_requests", ok);
        m.put("success_rate", t == 0 ? 1.0 : (double) ok / t);
        m.put("throughput_per_second", t / seconds);
        m.put("uptime_seconds", (long) seconds);
        HistogramSnapshot snap = all.takeSnapshot();
        Map<String, Double> latency = new LinkedHashMap<>();
        for (ValueAtPercentile p : snap.percentileValues()) {
            latency.put("p" + Math.round(p.percentile() * 100), p.value(TimeUnit.MILLISECONDS));
        }
        latency.put("mean", snap.mean(TimeUnit.MILLISECONDS));
        latency.put("max", snap.max(TimeUnit.MILLISECONDS));
        m.put("latency_ms", latency);
        return m;
    }
}
