package dev.proxymanager.middleware.store;

import java.time.Duration;

/**
 * Where sticky sessions are bound to secrets: {@code (endpoint, session) → secret id}, forgotten after the session
 * has been idle for its TTL, with a cap on the sessions one secret holds at once. Kept beside the usage state (in
 * memory, or in Redis so that a session begun on one replica continues on another).
 *
 * <p>Time is wall time in epoch milliseconds ({@code nowMillis}), passed by the caller: the only clock replicas share.
 * Implementations are threadsafe.
 */
public interface SessionStore extends AutoCloseable {

    /**
     * The secret {@code session} of {@code endpoint} is bound to, restarting its idle time; {@code null} when it has
     * none or was idle {@code ttl} or longer.
     */
    String boundSecret(String endpoint, String session, long nowMillis, Duration ttl);

    /**
     * Binds {@code session} to {@code secretId} (moving it off any other secret), restarting its idle time — unless
     * {@code secretId} already holds {@code maxSessions} other sessions not idle for {@code ttl}.
     *
     * @param maxSessions the cap of sessions per secret; 0: no cap
     * @return true when bound, false when the secret is full (nothing changed)
     */
    boolean bind(String endpoint, String session, String secretId, int maxSessions, long nowMillis, Duration ttl);

    /** Frees what the store holds (connections); idempotent. */
    @Override
    void close();
}
