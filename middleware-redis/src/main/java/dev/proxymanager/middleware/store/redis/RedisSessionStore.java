package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.SessionStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;

import java.time.Duration;
import java.util.Objects;

/**
 * A {@link SessionStore} in Redis, so replicas behind a load balancer share sticky sessions. Key layout (the
 * endpoint in braces keeps one endpoint's keys in one cluster slot, as the usage store's do):
 * <ul>
 *   <li>{@code <prefix>:{<endpoint>}:v1:session:<session>} — a string, the secret id the session is bound to;</li>
 *   <li>{@code <prefix>:{<endpoint>}:v1:sessions-of:<secret id>} — a sorted set of the secret's sessions, scored by
 *       when each goes idle (epoch ms): the cap counts its live members.</li>
 * </ul>
 * Idle expiry is decided on the scores with the caller's wall time; every key also carries a Redis {@code PEXPIRE}
 * of the TTL plus {@link #EXPIRY_SLACK}, so the keys of idle sessions and secrets disappear without a sweep. Each
 * call is one small script: one round trip, atomic. The connection is opened on first use. This class is
 * threadsafe (one pipelined connection).
 */
public final class RedisSessionStore implements SessionStore {

    /** Kept past the TTL before Redis drops a key: room for replicas' clocks to differ. */
    public static final Duration EXPIRY_SLACK = Duration.ofMinutes(1);

    private static final String BOUND_SECRET = """
            local secret = redis.call('GET', KEYS[1])
            if not secret then return false end
            local set = ARGV[1] .. secret
            local now = tonumber(ARGV[3])
            local idleAt = redis.call('ZSCORE', set, ARGV[2])
            if (not idleAt) or tonumber(idleAt) <= now then
              redis.call('DEL', KEYS[1])
              redis.call('ZREM', set, ARGV[2])
              return false
            end
            local ttl = tonumber(ARGV[4])
            redis.call('ZADD', set, now + ttl, ARGV[2])
            redis.call('PEXPIRE', set, ttl + tonumber(ARGV[5]))
            redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[5]))
            return secret
            """;

    private static final String BIND = """
            local now = tonumber(ARGV[4])
            local ttl = tonumber(ARGV[5])
            local max = tonumber(ARGV[6])
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
            if max > 0 and (not redis.call('ZSCORE', KEYS[2], ARGV[2])) and redis.call('ZCARD', KEYS[2]) >= max then
              return 0
            end
            local old = redis.call('GET', KEYS[1])
            if old and old ~= ARGV[3] then redis.call('ZREM', ARGV[1] .. old, ARGV[2]) end
            redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl + tonumber(ARGV[7]))
            redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
            redis.call('PEXPIRE', KEYS[2], ttl + tonumber(ARGV[7]))
            return 1
            """;

    private final RedisClient client;
    private final String prefix;
    private volatile StatefulRedisConnection<String, String> connection;

    private RedisSessionStore(String uri, String prefix, Duration timeout) {
        RedisURI u = RedisURI.create(uri);
        u.setTimeout(timeout);
        this.client = RedisClient.create(u);
        this.prefix = prefix;
    }

    /**
     * A store at {@code uri} ({@code redis://host:port}) under key prefix {@code pm}, each call timing out after 2 s.
     *
     * @throws IllegalArgumentException if {@code uri} is not a Redis URI
     */
    public static RedisSessionStore create(String uri) {
        return new RedisSessionStore(Objects.requireNonNull(uri, "uri"), "pm", Duration.ofSeconds(2));
    }

    @Override
    public String boundSecret(String endpoint, String session, long nowMillis, Duration ttl) {
        return commands().eval(BOUND_SECRET, ScriptOutputType.VALUE, new String[]{sessionKey(endpoint, session)},
                setPrefix(endpoint), session, Long.toString(nowMillis), Long.toString(ttl.toMillis()),
                Long.toString(EXPIRY_SLACK.toMillis()));
    }

    @Override
    public boolean bind(String endpoint, String session, String secretId, int maxSessions, long nowMillis,
                        Duration ttl) {
        Long bound = commands().eval(BIND, ScriptOutputType.INTEGER,
                new String[]{sessionKey(endpoint, session), setPrefix(endpoint) + secretId},
                setPrefix(endpoint), session, secretId, Long.toString(nowMillis), Long.toString(ttl.toMillis()),
                Integer.toString(maxSessions), Long.toString(EXPIRY_SLACK.toMillis()));
        return bound != null && bound == 1L;
    }

    private String sessionKey(String endpoint, String session) {
        return prefix + ":{" + endpoint + "}:" + RedisUsageStore.FORMAT_VERSION + ":session:" + session;
    }

    private String setPrefix(String endpoint) {
        return prefix + ":{" + endpoint + "}:" + RedisUsageStore.FORMAT_VERSION + ":sessions-of:";
    }

    private RedisCommands<String, String> commands() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            synchronized (this) {
                c = connection;
                if (c == null) {
                    c = client.connect(StringCodec.UTF8);
                    connection = c;
                }
            }
        }
        return c.sync();
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
        client.shutdown();
    }
}
