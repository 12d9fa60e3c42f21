package dev.proxymanager.server.metrics;

import dev.proxymanager.middleware.cache.ResponseCache;
import dev.proxymanager.middleware.log.ElasticsearchRequestLog;
import dev.proxymanager.middleware.log.RequestLog;
import dev.proxymanager.middleware.store.FailoverUsageStore;
import dev.proxymanager.server.config.SecretsReloader;
import dev.proxymanager.server.logging.LogstashShipping;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Makes the backing services' health visible in {@code /metrics}, so an outage of Elasticsearch, Logstash or Redis
 * — which degrades the server but never stops it — shows on a graph and can page someone:
 * <ul>
 *   <li>{@code proxy_backend_state{backend, state}}: 1 for the current state ({@code up}, {@code degraded},
 *       {@code down}) of each backend the readiness check reports (usage store, Elasticsearch);</li>
 *   <li>{@code proxy_request_log_dropped_total}, {@code _delivered_total}, {@code _failed_bulks_total} and the
 *       {@code proxy_request_log_buffered} documents waiting;</li>
 *   <li>{@code proxy_cache_store_errors_total}, {@code proxy_cache_writes_dropped_total},
 *       {@code proxy_cache_corrupt_entries_total};</li>
 *   <li>{@code proxy_logstash_events_sent_total}, {@code _dropped_total}, {@code _send_failures_total},
 *       {@code proxy_logstash_connection_failures_total} and {@code proxy_logstash_connected};</li>
 *   <li>{@code proxy_secrets_reloads_total} and {@code proxy_secrets_reload_failures_total};</li>
 *   <li>{@code proxy_usage_store_errors_total} (errors that are not outages, e.g. a script error: each failed a
 *       request) and {@code proxy_usage_store_outages_total}.</li>
 * </ul>
 * Values are read on every scrape. This class is threadsafe.
 */
public final class BackendMetrics {

    /** The states a backend can be in, as the readiness check names them. */
    static final List<String> STATES = List.of("up", "degraded", "down");

    private BackendMetrics() {
    }

    /**
     * Registers gauges for the backends named by {@code states} (e.g. {@code usage_store → up}); the supplier is
     * called on every scrape, once per backend and state, so it must be cheap or cached.
     */
    public static void bindStates(MeterRegistry registry, List<String> backends, Supplier<Map<String, String>> states) {
        Objects.requireNonNull(states, "states");
        for (String backend : backends) {
            for (String state : STATES) {
                Gauge.builder("proxy.backend.state", states, s -> state.equals(s.get().get(backend)) ? 1 : 0)
                        .description("State of a backing service (1 = current): up, degraded (serving without it) "
                                + "or down")
                        .tag("backend", backend).tag("state", state.toLowerCase(Locale.ROOT))
                        .register(registry);
            }
        }
    }

    /** Registers the request log's delivery figures. */
    public static void bindRequestLog(MeterRegistry registry, RequestLog log) {
        counter(registry, "proxy.request.log.dropped", "Request log documents lost (buffer full)", log,
                RequestLog::droppedCount);
        counter(registry, "proxy.request.log.delivered", "Request log documents stored", log,
                RequestLog::deliveredCount);
        Gauge.builder("proxy.request.log.buffered", log, RequestLog::bufferedCount)
                .description("Request log documents waiting to be stored").register(registry);
        if (log instanceof ElasticsearchRequestLog es) {
            counter(registry, "proxy.request.log.failed.bulks", "Bulk requests that failed as a whole "
                    + "(Elasticsearch unreachable); their documents are retried", es, ElasticsearchRequestLog::failedBulkCount);
        }
    }

    /** Registers the response cache's failure figures (hits and misses are counted per request elsewhere). */
    public static void bindCache(MeterRegistry registry, ResponseCache cache) {
        counter(registry, "proxy.cache.store.errors", "Cache reads or writes that failed (served without the cache)",
                cache, c -> c.stats().storeErrors());
        counter(registry, "proxy.cache.writes.dropped", "Cache writes given up (too many pending)",
                cache, c -> c.stats().writesDropped());
        counter(registry, "proxy.cache.corrupt.entries", "Cache documents that could not be read back",
                cache, c -> c.stats().corruptEntries());
    }

    /** Registers what the Logstash appender did with the log events. */
    public static void bindLogstash(MeterRegistry registry, LogstashShipping shipping) {
        counter(registry, "proxy.logstash.events.sent", "Log events written to Logstash", shipping,
                LogstashShipping::sent);
        counter(registry, "proxy.logstash.events.dropped", "Log events lost because Logstash was missing or slow",
                shipping, LogstashShipping::dropped);
        counter(registry, "proxy.logstash.send.failures", "Log event writes to Logstash that failed", shipping,
                LogstashShipping::sendFailures);
        counter(registry, "proxy.logstash.connection.failures", "Failed attempts to connect to Logstash", shipping,
                LogstashShipping::connectionFailures);
        Gauge.builder("proxy.logstash.connected", shipping, s -> s.connected() ? 1 : 0)
                .description("1 while a connection to Logstash is open").register(registry);
    }

    /** Registers how many secrets.json reloads were applied and refused. */
    public static void bindSecretsReloads(MeterRegistry registry, SecretsReloader reloader) {
        counter(registry, "proxy.secrets.reloads", "secrets.json changes applied while running", reloader,
                SecretsReloader::reloads);
        counter(registry, "proxy.secrets.reload.failures",
                "secrets.json reloads refused (unreadable or invalid; the running secrets stay)", reloader,
                SecretsReloader::failures);
    }

    /** Registers the usage store's outages and its errors that are not outages (each failed the call it was in). */
    public static void bindUsageStore(MeterRegistry registry, FailoverUsageStore store) {
        counter(registry, "proxy.usage.store.errors", "Usage store calls that failed with an error that is not an "
                + "outage (e.g. a script error); limits were not skipped, the request failed", store,
                s -> s.status().faults());
        counter(registry, "proxy.usage.store.outages", "Times the usage store became unreachable", store,
                s -> s.status().outages());
    }

    private static <T> void counter(MeterRegistry registry, String name, String description, T source,
                                    ToDoubleFunction<T> value) {
        FunctionCounter.builder(name, source, value).description(description).register(registry);
    }
}
