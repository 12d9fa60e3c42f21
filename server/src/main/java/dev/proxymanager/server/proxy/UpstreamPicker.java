package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.transport.ProxyAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;

/**
 * Picks the upstream proxy of one proxy-port exchange through the engine: a session stays on its bound proxy while
 * the engine says it is usable (under its limits, not cooling down) and moves — and is rebound — when not. A proxy
 * already holding the endpoint's {@code max_sessions_per_proxy} sessions takes no new one: the next proxy is tried.
 * Bindings live in a {@link SessionStore} (Redis across replicas); when the store fails, the exchange goes on
 * without stickiness rather than failing. Both the plain-HTTP and the CONNECT path pick here. This class is
 * threadsafe.
 */
final class UpstreamPicker {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamPicker.class);

    /** What {@link #pick} found. */
    sealed interface Pick permits Picked, NoneFree {
    }

    /**
     * @param lease release it to the engine with the outcome
     * @param proxy the upstream proxy to go through (its credentials included; never log it)
     * @param moved the session was on another proxy, which is not usable now
     */
    record Picked(SecretLease lease, ProxyAddress proxy, boolean moved) implements Pick {
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

    UpstreamPicker(RotationEngine engine, SessionStore sessions, Clock clock, Duration sessionTtl) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sessionTtl = Objects.requireNonNull(sessionTtl, "sessionTtl");
    }

    /**
     * @param session the session id or {@code null}
     * @param retry true after a failed attempt: the session's proxy just failed, let the rotation pick
     */
    Pick pick(EndpointConfig endpoint, String session, boolean retry) {
        String name = endpoint.name();
        String bound = session == null ? null : boundSecret(name, session);
        AcquireResult r = engine.acquire(name, retry ? null : bound);
        if (r instanceof AcquireResult.Denied d) {
            return new NoneFree(d.reason(), d.retryAfter());
        }
        SecretLease lease = ((AcquireResult.Granted) r).lease();
        if (session == null || lease.secretId().equals(bound)) {
            return picked(lease, bound);
        }
        // a new binding: the picked proxy may be full of sessions; then try each other proxy once
        Set<String> full = new HashSet<>();
        Iterator<String> candidates = endpoint.secrets().stream().map(SecretConfig::id).iterator();
        while (true) {
            if (!full.contains(lease.secretId())) {
                if (bind(endpoint, session, lease.secretId())) {
                    return picked(lease, bound);
                }
                full.add(lease.secretId());
            }
            engine.release(lease, Outcome.unused());
            String next = null;
            while (next == null && candidates.hasNext()) {
                String id = candidates.next();
                next = full.contains(id) ? null : id;
            }
            AcquireResult again = next == null ? null : engine.acquire(name, next);
            if (!(again instanceof AcquireResult.Granted g)) {
                return new NoneFree("every usable proxy of endpoint " + name + " holds max_sessions_per_proxy ("
                        + endpoint.maxSessionsPerProxy() + ") sessions", SESSIONS_FULL_RETRY_AFTER);
            }
            lease = g.lease();
        }
    }

    private Picked picked(SecretLease lease, String bound) {
        return new Picked(lease, ProxyAddress.parse(lease.value()), bound != null && !bound.equals(lease.secretId()));
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
