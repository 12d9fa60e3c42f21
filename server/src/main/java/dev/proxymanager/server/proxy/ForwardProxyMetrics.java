package dev.proxymanager.server.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy port's meters: open tunnels, tunnels opened, bytes relayed (plain bodies and tunnels) and targets
 * refused. This class is threadsafe.
 */
public final class ForwardProxyMetrics {

    private final AtomicInteger openTunnels = new AtomicInteger();
    private final Counter tunnelsOpened;
    private final Counter bytesRelayed;
    private final Counter refusals;
    private final Counter intercepted;

    public ForwardProxyMetrics(MeterRegistry registry) {
        registry.gauge("proxy_manager_forward_proxy_open_tunnels", openTunnels);
        this.tunnelsOpened = Counter.builder("proxy_manager_forward_proxy_tunnels_opened")
                .description("CONNECT tunnels established through an upstream proxy").register(registry);
        this.bytesRelayed = Counter.builder("proxy_manager_forward_proxy_relayed_bytes")
                .description("bytes relayed: plain response bodies and tunnel bytes both ways").register(registry);
        this.refusals = Counter.builder("proxy_manager_forward_proxy_target_refusals")
                .description("targets refused by allowed_targets or the address checks").register(registry);
        this.intercepted = Counter.builder("proxy_manager_forward_proxy_tunnels_intercepted")
                .description("CONNECTs answered with TLS interception (intercept_tls)").register(registry);
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

    /** Tunnels open now. */
    public int openTunnels() {
        return openTunnels.get();
    }
}
