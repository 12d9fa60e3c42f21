package dev.proxymanager.middleware.store;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link SessionStore} in this process's memory. Idle sessions are dropped when touched and by a sweep every
 * {@value #SWEEP_EVERY} new bindings, so memory stays bounded by the sessions active within one TTL. This class is
 * threadsafe (one lock: bindings are short).
 */
public final class InMemorySessionStore implements SessionStore {

    /** Sweep idle entries whenever this many more were added since the last sweep. */
    private static final int SWEEP_EVERY = 1024;

    private record Binding(String secretId, long expiresAtMillis) {
    }

    private final Map<String, Binding> sessions = new HashMap<>(); // guarded by this
    private final Map<String, Map<String, Long>> sessionsOfSecret = new HashMap<>(); // guarded by this
    private int addedSinceSweep; // guarded by this

    @Override
    public synchronized String boundSecret(String endpoint, String session, long nowMillis, Duration ttl) {
        String key = key(endpoint, session);
        Binding b = sessions.get(key);
        if (b == null) {
            return null;
        }
        if (b.expiresAtMillis() <= nowMillis) {
            unbind(endpoint, session, b);
            return null;
        }
        long expires = nowMillis + ttl.toMillis();
        sessions.put(key, new Binding(b.secretId(), expires));
        sessionsOfSecret.computeIfAbsent(key(endpoint, b.secretId()), k -> new HashMap<>()).put(session, expires);
        return b.secretId();
    }

    @Override
    public synchronized boolean bind(String endpoint, String session, String secretId, int maxSessions, long nowMillis,
                                     Duration ttl) {
        Objects.requireNonNull(secretId, "secretId");
        Map<String, Long> holders = sessionsOfSecret.computeIfAbsent(key(endpoint, secretId), k -> new HashMap<>());
        holders.values().removeIf(expires -> expires <= nowMillis);
        if (maxSessions > 0 && !holders.containsKey(session) && holders.size() >= maxSessions) {
            return false;
        }
        String key = key(endpoint, session);
        Binding old = sessions.get(key);
        if (old != null && !old.secretId().equals(secretId)) {
            unbind(endpoint, session, old);
        }
        long expires = nowMillis + ttl.toMillis();
        holders.put(session, expires);
        if (sessions.put(key, new Binding(secretId, expires)) == null && ++addedSinceSweep >= SWEEP_EVERY) {
            addedSinceSweep = 0;
            sessions.values().removeIf(b -> b.expiresAtMillis() <= nowMillis);
            sessionsOfSecret.values().forEach(m -> m.values().removeIf(e -> e <= nowMillis));
            sessionsOfSecret.values().removeIf(Map::isEmpty);
        }
        return true;
    }

    /** Sessions held (idle ones not yet swept included). */
    public synchronized int size() {
        return sessions.size();
    }

    private void unbind(String endpoint, String session, Binding b) {
        sessions.remove(key(endpoint, session));
        Map<String, Long> holders = sessionsOfSecret.get(key(endpoint, b.secretId()));
        if (holders != null) {
            holders.remove(session);
        }
    }

    private static String key(String endpoint, String id) {
        return endpoint + '\u0000' + id;
    }

    @Override
    public void close() {
        // nothing held outside the heap
    }
}
