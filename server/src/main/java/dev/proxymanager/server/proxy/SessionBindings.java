package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which upstream proxy each session of the proxy port is on: {@code (endpoint, session) → secret id}, forgotten
 * after the session has been idle for the TTL. In this process only (a shared binding in the usage store is not
 * built yet). Entries of idle sessions are dropped on access and by a sweep once the map grows, so memory stays
 * bounded by the sessions active within one TTL. This class is threadsafe.
 */
public final class SessionBindings {

    private record Binding(String secretId, long lastUsedNanos) {
    }

    /** Sweep idle entries whenever this many more were added since the last sweep. */
    private static final int SWEEP_EVERY = 1024;

    private final Clock clock;
    private final long ttlNanos;
    private final Map<String, Binding> bindings = new ConcurrentHashMap<>();
    private int addedSinceSweep;

    /**
     * @param clock the time source of idle expiry
     * @param ttl how long an idle session keeps its binding
     */
    public SessionBindings(Clock clock, Duration ttl) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttlNanos = Objects.requireNonNull(ttl, "ttl").toNanos();
    }

    /** The secret session {@code session} of {@code endpoint} is on, or {@code null} (none, or idle too long). */
    public String get(String endpoint, String session) {
        String key = key(endpoint, session);
        Binding b = bindings.get(key);
        if (b == null) {
            return null;
        }
        if (clock.nanoTime() - b.lastUsedNanos() >= ttlNanos) {
            bindings.remove(key, b);
            return null;
        }
        return b.secretId();
    }

    /** Binds the session to {@code secretId} (again), restarting its idle time. */
    public void bind(String endpoint, String session, String secretId) {
        if (bindings.put(key(endpoint, session), new Binding(secretId, clock.nanoTime())) == null) {
            boolean sweep;
            synchronized (this) {
                sweep = ++addedSinceSweep >= SWEEP_EVERY;
                if (sweep) {
                    addedSinceSweep = 0;
                }
            }
            if (sweep) {
                long now = clock.nanoTime();
                bindings.values().removeIf(x -> now - x.lastUsedNanos() >= ttlNanos);
            }
        }
    }

    /** Sessions currently bound (idle ones not yet swept included). */
    public int size() {
        return bindings.size();
    }

    private static String key(String endpoint, String session) {
        return endpoint + '\u0000' + session;
    }
}
