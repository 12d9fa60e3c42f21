package dev.proxymanager.server.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import dev.proxymanager.middleware.rotation.SecretStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy port's meters: open tunnels, tunnels opened, bytes relayed (plain bodies and tunnels), targets
 * refused, per-site bans and requests retried on a fresh upstream connection. This class is threadsafe.
 */
public final class ForwardProxyMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardProxyMetrics.class);

    private final AtomicInteger openTunnels = new AtomicInteger();
    private final Counter tunnelsOpened;
    private final Counter bytesRelayed;
    private final Counter refusals;
    private final Counter intercepted;
    private final Counter staleConnectionRetries;
    private final MeterRegistry registry;

    public ForwardProxyMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("proxy_manager_forward_proxy_open_tunnels", openTunnels);
        this.tunnelsOpened = Counter.builder("proxy_manager_forward_proxy_tunnels_opened")
                .description("CONNECT tunnels established through an upstream proxy").register(registry);
        this.bytesRelayed = Counter.builder("proxy_manager_forward_proxy_relayed_bytes")
                .description("bytes relayed: plain response bodies and tunnel bytes both ways").register(registry);
        this.refusals = Counter.builder("proxy_manager_forward_proxy_target_refusals")
                .description("targets refused by allowed_targets or the address checks").register(registry);
        this.intercepted = Counter.builder("proxy_manager_forward_proxy_tunnels_intercepted")
                .description("CONNECTs answered with TLS interception (intercept_tls)").register(registry);
        this.staleConnectionRetries = Counter.builder("proxy_manager_forward_proxy_stale_connection_retries")
                .description("plain requests sent again on a fresh connection to the same upstream proxy after its"
                        + " pooled kept-alive connection turned out closed").register(registry);
    }

    void staleConnectionRetried() {
        staleConnectionRetries.increment();
    }

    /** Plain requests sent again because their pooled upstream connection was found closed. */
    public long staleConnectionRetries() {
        return (long) staleConnectionRetries.count();
    }

    void tunnelIntercepted() {
        intercepted.increment();
    }

    /** CONNECTs intercepted so far. */
    public long interceptedTunnels() {
        return (long) intercepted.count();
    }

    void tunnelOpened() {
        openTunnels.incrementAndGet();
        tunnelsOpened.increment();
    }

    void tunnelClosed(long bytes) {
        openTunnels.decrementAndGet();
        bytesRelayed.increment(bytes);
    }

    void bytesRelayed(long bytes) {
        bytesRelayed.increment(bytes);
    }

    void targetRefused() {
        refusals.increment();
    }

    /**
     * A secret changed state for one site ({@code health.scope: host}): a ban is counted per endpoint (not per host,
     * whose number is unbounded) and logged with the host.
     */
    void siteStateChanged(SecretStateEvent e) {
        if (e.kind() != SecretStateEvent.Kind.BAN) {
            return;
        }
        int at = e.endpoint().indexOf(SiteScopes.SEPARATOR);
        String endpoint = at < 0 ? e.endpoint() : e.endpoint().substring(0, at);
        String host = at < 0 ? "" : e.endpoint().substring(at + 1);
        Counter.builder("proxy_manager_forward_proxy_site_bans").tag("endpoint", endpoint)
                .description("proxies banned by one target site (health.scope: host)").register(registry).increment();
        LOG.atInfo().setMessage("proxy banned by site").addKeyValue("endpoint", endpoint)
                .addKeyValue("target_host", host).addKeyValue("proxy_id", e.secretId())
                .addKeyValue("cooldown_until", e.until() == null ? null : e.until().toString()).log();
    }

    /** Tunnels open now. */
    public int openTunnels() {
        return openTunnels.get();
    }
}
