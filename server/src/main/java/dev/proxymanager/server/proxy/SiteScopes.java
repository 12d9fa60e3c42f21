package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.rotation.SecretStateEvent;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.UsageStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Per-site limits and health of proxy endpoints ({@code "scope": "host"}): for each (endpoint, target host) in use,
 * a <em>site endpoint</em> named {@code <endpoint>@<host>} — the endpoint's secrets under its host-scoped limits and,
 * with {@code health.scope: host}, its health policy — in an engine of its own over the <em>same</em> usage store.
 * The store's atomic acquire therefore serves it unchanged: its state sits under the site endpoint's own keys
 * ({@code pm:{crawl@example.com}:v1:<secret>} in Redis), shared by every replica, so "30 requests per minute per
 * proxy per site" holds across them and a proxy banned by one site keeps serving the others.
 *
 * <p>Memory bound: a site endpoint unused for longer than its state lives (its longest window plus cooldown, its
 * health cooldowns; at least {@link #MIN_IDLE}) is dropped from the engine; a private (in-memory) store forgets its
 * state then, and Redis keys expire by themselves. This class is threadsafe.
 */
final class SiteScopes implements AutoCloseable {

    /** Separates the endpoint from the host in a site endpoint's name. */
    static final char SEPARATOR = '@';
    /** A site endpoint is kept at least this long after its last use. */
    static final Duration MIN_IDLE = Duration.ofMinutes(10);
    /** Sweep idle site endpoints at most this often. */
    private static final long SWEEP_EVERY_NANOS = Duration.ofSeconds(30).toNanos();

    private record Site(EndpointConfig source, EndpointConfig config, long idleNanos, long lastUsedNanos) {
    }

    private final RotationEngine engine;
    private final UsageStore store;
    private final Clock clock;
    private final Map<String, Site> sites = new ConcurrentHashMap<>();
    private volatile long lastSweepNanos;

    /**
     * @param store the usage store of the main engine (shared: the sites' state sits beside the proxies')
     * @param onStateChange called with per-site bans and cooldowns (the event's endpoint is the site endpoint)
     */
    SiteScopes(UsageStore store, Clock clock, Consumer<SecretStateEvent> onStateChange) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.engine = RotationEngine.builder().withStore(store).withClock(clock)
                .onStateChange(onStateChange::accept).build();
        this.lastSweepNanos = clock.nanoTime();
    }

    /** The site endpoint's name for {@code endpoint} and {@code host}. */
    static String siteName(String endpoint, String host) {
        return endpoint + SEPARATOR + host.toLowerCase(Locale.ROOT);
    }

    /** Hands out a secret of {@code endpoint} for {@code host}, preferring {@code preferredId}, as the engine does. */
    AcquireResult acquire(EndpointConfig endpoint, String host, String preferredId) {
        String name = siteName(endpoint.name(), host);
        long now = clock.nanoTime();
        sites.compute(name, (n, current) -> {
            if (current == null || current.source() != endpoint) {
                EndpointConfig config = siteConfig(endpoint, n);
                if (current == null || !current.config().equals(config)) {
                    engine.updateEndpoint(config);
                }
                return new Site(endpoint, config, idleNanos(endpoint), now);
            }
            return new Site(current.source(), current.config(), current.idleNanos(), now);
        });
        if (now - lastSweepNanos >= SWEEP_EVERY_NANOS) {
            lastSweepNanos = now;
            sweep(now);
        }
        return engine.acquire(name, preferredId);
    }

    /** Returns a site lease with what happened (already mapped to what the site should learn from it). */
    OutcomeKind release(SecretLease lease, Outcome outcome) {
        return engine.release(lease, outcome);
    }

    /**
     * Per site endpoint of {@code endpoint} now in memory, the secrets that cannot serve that site now (cooling down,
     * banned, at a per-site limit), for {@code /api/v1/proxies}.
     */
    Map<String, List<SecretStats>> unavailable(String endpoint) {
        Map<String, List<SecretStats>> out = new java.util.TreeMap<>();
        String prefix = endpoint + SEPARATOR;
        for (String name : sites.keySet()) {
            if (!name.startsWith(prefix)) {
                continue;
            }
            try {
                List<SecretStats> out2 = new ArrayList<>();
                for (SecretStats s : engine.stats(name)) {
                    if (s.cause() != dev.proxymanager.middleware.store.UnavailableCause.READY) {
                        out2.add(s);
                    }
                }
                if (!out2.isEmpty()) {
                    out.put(name.substring(prefix.length()), out2);
                }
            } catch (IllegalArgumentException e) {
                // swept meanwhile
            }
        }
        return out;
    }

    /** Site endpoints in memory (for tests and metrics). */
    int size() {
        return sites.size();
    }

    private void sweep(long now) {
        sites.entrySet().removeIf(e -> {
            Site s = e.getValue();
            if (now - s.lastUsedNanos() < s.idleNanos()) {
                return false;
            }
            engine.removeEndpoint(e.getKey());
            if (!store.sharedAcrossProcesses()) {
                for (SecretConfig secret : s.config().secrets()) {
                    store.forget(e.getKey(), secret.id());
                }
            }
            return true;
        });
    }

    /** The endpoint's secrets, for one site: its host-scoped limits, and its health when that is host-scoped. */
    private static EndpointConfig siteConfig(EndpointConfig endpoint, String name) {
        List<SecretConfig> secrets = new ArrayList<>();
        for (SecretConfig s : endpoint.secrets()) {
            secrets.add(new SecretConfig(s.id(), s.value(), List.of())); // a secret's own limits are not per site
        }
        return EndpointConfig.builder(name, endpoint.type()).withSecrets(secrets).withLimits(endpoint.hostLimits())
                .withRotation(endpoint.rotation()).withRotationInterval(endpoint.rotationInterval())
                .withHealth(endpoint.health()).withTimeouts(endpoint.timeouts()).build();
    }

    /** How long a site's state matters after its last use: its longest window and cooldowns. */
    private static long idleNanos(EndpointConfig endpoint) {
        Duration longest = MIN_IDLE;
        for (LimitConfig l : endpoint.hostLimits()) {
            longest = max(longest, l.per().plus(l.cooldown()));
        }
        if (endpoint.hostScopedHealth()) {
            longest = max(longest, endpoint.health().backoffMax());
            longest = max(longest, endpoint.health().failureWindow().plus(endpoint.health().failureWindowCooldown()));
            longest = max(longest, endpoint.health().consecutiveFailuresCooldown());
        }
        return longest.toNanos();
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @Override
    public void close() {
        engine.close();
    }
}
