package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.transport.ProxyAddress;

import java.time.Duration;
import java.util.Objects;

/**
 * Picks the upstream proxy of one proxy-port exchange through the engine: a session stays on its bound proxy while
 * the engine says it is usable (under its limits, not cooling down), and moves — and is rebound — when not.
 * Both the plain-HTTP and the CONNECT path pick here. This class is threadsafe.
 */
final class UpstreamPicker {

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

    private final RotationEngine engine;
    private final SessionBindings sessions;

    UpstreamPicker(RotationEngine engine, SessionBindings sessions) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
    }

    /**
     * @param session the session id or {@code null}
     * @param retry true after a failed attempt: the session's proxy just failed, let the rotation pick
     */
    Pick pick(String endpoint, String session, boolean retry) {
        String bound = session == null ? null : sessions.get(endpoint, session);
        AcquireResult r = engine.acquire(endpoint, retry ? null : bound);
        if (r instanceof AcquireResult.Denied d) {
            return new NoneFree(d.reason(), d.retryAfter());
        }
        SecretLease lease = ((AcquireResult.Granted) r).lease();
        if (session != null) {
            sessions.bind(endpoint, session, lease.secretId());
        }
        return new Picked(lease, ProxyAddress.parse(lease.value()), bound != null && !bound.equals(lease.secretId()));
    }
}
