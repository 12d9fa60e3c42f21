package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.health.OutcomeKind;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.quota.QuotaReading;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.CallRoute;
import dev.proxymanager.middleware.rotation.CostTooLargeException;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.transport.ProxyAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks the upstream proxy of one proxy-port exchange through the engine: a session stays on its bound proxy while
 * the engine says it is usable (under its limits, not cooling down) and moves — and is rebound — when not. A proxy
 * already holding the endpoint's {@code max_sessions_per_proxy} sessions takes no new one: the next proxy is tried.
 * Bindings live in a {@link SessionStore} (Redis across replicas); when the store fails, the exchange goes on
 * without stickiness rather than failing. Both the plain-HTTP and the CONNECT path pick here.
 *
 * <p>A grant given back before anything was sent with it — the site grants a proxy the endpoint does not (or the
 * other way round), or the proxy picked for a new session is full of sessions — is released {@link Outcome#unused()}:
 * its use is withdrawn from the windows ({@code UsageStore.giveBack}), so it costs nothing. The site is asked first
 * because its limits are the tighter ones: the endpoint refuses its pick less often than the other way round, so
 * fewer store calls are wasted. This class is threadsafe.
 */
final class UpstreamPicker {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamPicker.class);

    /** What {@link #pick} found. */
    sealed interface Pick permits Picked, NoneFree {
    }

    /**
     * @param lease release it (through {@link #release}) with the outcome
     * @param siteLease the same secret's lease for the target site when the endpoint is host-scoped, else null
     * @param siteHealth the endpoint's health is host-scoped
     * @param proxy the upstream proxy to go through (its credentials included; never log it)
     * @param moved the session was on another proxy, which is not usable now
     */
    record Picked(SecretLease lease, SecretLease siteLease, boolean siteHealth, ProxyAddress proxy, boolean moved)
            implements Pick {
    }

    /** The main and the site lease of one secret (the site one null when the endpoint is not host-scoped). */
    private record Leases(SecretLease lease, SecretLease siteLease, boolean siteHealth) {
    }

    /** No proxy is free; {@code retryAfter} says when one will be. */
    record NoneFree(String reason, Duration retryAfter) implements Pick {
    }

    /** When every usable proxy is full of sessions: ask again after this long. */
    static final Duration SESSIONS_FULL_RETRY_AFTER = Duration.ofSeconds(1);

    private final RotationEngine engine;
    private final SessionStore sessions;
    private final Clock clock;
    private final Duration sessionTtl;
    private final SiteScopes sites;
    private final ConcurrentHashMap<String, ProxyAddress> addresses = new ConcurrentHashMap<>();
    private static final int MAX_ADDRESSES = 4096;

    UpstreamPicker(RotationEngine engine, SiteScopes sites, SessionStore sessions, Clock clock, Duration sessionTtl) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.sites = Objects.requireNonNull(sites, "sites");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sessionTtl = Objects.requireNonNull(sessionTtl, "sessionTtl");
    }

    /**
     * @param host the target host (per-site limits and health are kept per host)
     * @param session the session id or {@code null}
     * @param retry true after a failed attempt: the session's proxy just failed, let the rotation pick
     */
    Pick pick(EndpointConfig endpoint, String host, String session, boolean retry) {
        return pick(endpoint, host, session, retry, CallRoute.UNKNOWN);
    }

    /**
     * As {@link #pick(EndpointConfig, String, String, boolean)} for a request of {@code route} (route buckets, cost).
     *
     * @throws CostTooLargeException when the request costs more than a limit that counts it allows, holding no lease
     */
    Pick pick(EndpointConfig endpoint, String host, String session, boolean retry, CallRoute route) {
        String name = endpoint.name();
        String bound = session == null ? null : boundSecret(name, session);
        Object first = acquire(endpoint, host, retry ? null : bound, route);
        if (first instanceof NoneFree none) {
            return none;
        }
        Leases leases = (Leases) first;
        if (session == null || leases.lease().secretId().equals(bound)) {
            return picked(leases, bound);
        }
        // a new binding: the picked proxy may be full of sessions; then try each other proxy once
        Set<String> full = new HashSet<>();
        Iterator<String> candidates = endpoint.secrets().stream().map(SecretConfig::id).iterator();
        while (true) {
            String id = leases.lease().secretId();
            if (!full.contains(id)) {
                if (bind(endpoint, session, id)) {
                    return picked(leases, bound);
                }
                full.add(id);
            }
            releaseUnused(leases);
            String next = null;
            while (next == null && candidates.hasNext()) {
                String candidate = candidates.next();
                next = full.contains(candidate) ? null : candidate;
            }
            Object again = next == null ? null : acquire(endpoint, host, next, route);
            if (!(again instanceof Leases l)) {
                return new NoneFree("every usable proxy of endpoint " + name + " holds max_sessions_per_proxy ("
                        + endpoint.maxSessionsPerProxy() + ") sessions", SESSIONS_FULL_RETRY_AFTER);
            }
            leases = l;
        }
    }

    /** Who gave an outcome: the target site (its answer relayed by the upstream proxy), or the upstream proxy. */
    enum Answerer {
        /** The site's answer, or a failure on the way to it (plain HTTP and intercepted requests). */
        SITE,
        /** The upstream proxy's own answer, e.g. to our {@code CONNECT}: nothing reached the site. */
        UPSTREAM_PROXY
    }

    /**
     * Returns the leases of {@code picked} with {@code outcome}, and what the outcome was, as classified. With
     * {@code health.scope: host}, the site's answers (statuses, bodies) count for the site only — the proxy is
     * neither banned nor credited for them everywhere — while the proxy's own answers (to CONNECT), a connection
     * failure or a timeout count for the proxy: a proxy that refuses CONNECT is broken for every site.
     * The quota a site reports is that site's: with a site lease it goes there (its cost to both leases).
     */
    OutcomeKind release(Picked picked, Outcome outcome, Answerer answerer) {
        if (picked.siteLease() == null) {
            return engine.release(picked.lease(), outcome);
        }
        boolean siteAnswer = answerer == Answerer.SITE && outcome.kind() == Outcome.Kind.RESPONSE;
        boolean forSite = picked.siteHealth() && siteAnswer;
        QuotaReading quota = outcome.quota();
        QuotaReading forProxy = new QuotaReading(List.of(), quota.malformed(), quota.cost());
        QuotaReading forTarget = new QuotaReading(quota.quotas(), 0, quota.cost());
        // the exchange went out through the proxy to the site: the lease not judged by the outcome keeps its use
        OutcomeKind overall = engine.release(picked.lease(),
                (forSite ? Outcome.unanswered() : outcome).withQuota(forProxy));
        OutcomeKind site = sites.release(picked.siteLease(),
                (forSite ? outcome : Outcome.unanswered()).withQuota(forTarget));
        // the engine that heard the outcome classified it, knowing that secret's windows
        return forSite ? site : overall;
    }

    /**
     * One secret usable both for the endpoint and (when host-scoped) for the site: the site's pick first, then the
     * endpoint's preferring it; when they differ, the site is asked for the endpoint's pick once.
     *
     * @return {@link Leases} or {@link NoneFree}
     * @throws CostTooLargeException when the request costs more than a limit that counts it allows (bad input: no
     *                               proxy could ever carry it), holding no lease
     */
    private Object acquire(EndpointConfig endpoint, String host, String preferred, CallRoute route) {
        if (!endpoint.hostScoped()) {
            AcquireResult r = engine.acquire(endpoint.name(), preferred, route);
            return r instanceof AcquireResult.Denied d ? new NoneFree(d.reason(), d.retryAfter())
                    : new Leases(((AcquireResult.Granted) r).lease(), null, false);
        }
        AcquireResult site = sites.acquire(endpoint, host, preferred);
        if (site instanceof AcquireResult.Denied d) {
            return new NoneFree("for " + host + ": " + d.reason(), d.retryAfter());
        }
        SecretLease siteLease = ((AcquireResult.Granted) site).lease();
        AcquireResult main;
        try {
            main = engine.acquire(endpoint.name(), siteLease.secretId(), route);
        } catch (CostTooLargeException e) {
            sites.release(siteLease, Outcome.unused());
            throw e;
        }
        if (main instanceof AcquireResult.Denied d) {
            sites.release(siteLease, Outcome.unused());
            return new NoneFree(d.reason(), d.retryAfter());
        }
        SecretLease lease = ((AcquireResult.Granted) main).lease();
        if (lease.secretId().equals(siteLease.secretId())) {
            return new Leases(lease, siteLease, endpoint.hostScopedHealth());
        }
        sites.release(siteLease, Outcome.unused());
        AcquireResult again = sites.acquire(endpoint, host, lease.secretId());
        if (again instanceof AcquireResult.Granted g && g.lease().secretId().equals(lease.secretId())) {
            return new Leases(lease, g.lease(), endpoint.hostScopedHealth());
        }
        if (again instanceof AcquireResult.Granted g) {
            sites.release(g.lease(), Outcome.unused());
        }
        engine.release(lease, Outcome.unused());
        return new NoneFree("no proxy of endpoint " + endpoint.name() + " is free both for " + host
                + " and overall now", SESSIONS_FULL_RETRY_AFTER);
    }

    private void releaseUnused(Leases leases) {
        engine.release(leases.lease(), Outcome.unused());
        if (leases.siteLease() != null) {
            sites.release(leases.siteLease(), Outcome.unused());
        }
    }

    private Picked picked(Leases leases, String bound) {
        SecretLease lease = leases.lease();
        return new Picked(lease, leases.siteLease(), leases.siteHealth(), address(lease.value()),
                bound != null && !bound.equals(lease.secretId()));
    }

    /** The parsed address of a proxy URL, parsed once rather than on every pick. */
    private ProxyAddress address(String value) {
        ProxyAddress a = addresses.get(value);
        if (a == null) {
            if (addresses.size() >= MAX_ADDRESSES) {
                addresses.clear(); // secrets replaced many times over: start again rather than grow
            }
            a = ProxyAddress.parse(value);
            addresses.put(value, a);
        }
        return a;
    }

    private String boundSecret(String endpoint, String session) {
        try {
            return sessions.boundSecret(endpoint, session, clock.now().toEpochMilli(), sessionTtl);
        } catch (RuntimeException e) {
            LOG.warn("session store unavailable, endpoint {} session not sticky this time: {}", endpoint, e.toString());
            return null;
        }
    }

    private boolean bind(EndpointConfig endpoint, String session, String secretId) {
        try {
            return sessions.bind(endpoint.name(), session, secretId, endpoint.maxSessionsPerProxy(),
                    clock.now().toEpochMilli(), sessionTtl);
        } catch (RuntimeException e) {
            LOG.warn("session store unavailable, endpoint {} session not bound: {}", endpoint.name(), e.toString());
            return true;
        }
    }
}
