package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.Sleeper;
import dev.proxymanager.middleware.config.SecretMasking;
import dev.proxymanager.middleware.token.TokenRefresher;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Makes auxiliary token refresh single-flight across processes: wraps the real {@link TokenRefresher} so that, per
 * secret, one process at a time refreshes (a Redis lock with an expiry, so a refresher that dies frees it) and the
 * others wait for its result, which is shared through Redis. A token refreshed by any process less than
 * {@code minRefreshInterval} ago is returned without refreshing again. Use it as the refresher of
 * {@link dev.proxymanager.middleware.token.AuxiliaryTokens}, which adds the in-process single flight.
 *
 * <p>Keys: {@code pm:{tokens}:v1:<secretId>:lock} (the holder's random id, expiring after the lock TTL) and
 * {@code pm:{tokens}:v1:<secretId>:token} (hash {@code v} = token, {@code at} = refresh time in epoch millis; expires
 * after 24 h). The shared token is an auxiliary credential stored in Redis: protect Redis like the secrets file.
 * When Redis is unreachable the delegate is called directly (each process refreshes for itself).
 *
 * <p>This class is threadsafe.
 */
public final class RedisTokenRefresher implements TokenRefresher, AutoCloseable {

    private static final String UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('DEL', KEYS[1]) end return 0";
    private static final long TOKEN_KEEP_MS = Duration.ofHours(24).toMillis();
    private static final Duration LOCK_POLL_INTERVAL = Duration.ofMillis(25);

    private final TokenRefresher delegate;
    private final Clock clock;
    private final Sleeper sleeper;
    private final long lockTtlMs;
    private final long minIntervalMs;
    private final RedisClient client;
    private StatefulRedisConnection<String, String> connection; // opened on first use, guarded by this
    private final String address;

    /**
     * @param uri the Redis address, e.g. {@code redis://127.0.0.1:6379}
     * @param delegate fetches a new token for real
     * @param clock wall time for the shared refresh time, and the deadline of a wait for another process's refresh
     * @param minRefreshInterval a token refreshed closer than this to now is reused (seed D: 2 minutes); &gt;= 0
     * @param lockTtl the longest a refresh may hold the lock (and others wait); &gt; 0
     * @throws IllegalArgumentException for a bad URI or duration (the connection opens on first use)
     */
    public RedisTokenRefresher(String uri, TokenRefresher delegate, Clock clock, Duration minRefreshInterval,
                               Duration lockTtl) {
        this(uri, delegate, clock, Sleeper.system(), minRefreshInterval, lockTtl);
    }

    /**
     * As {@link #RedisTokenRefresher(String, TokenRefresher, Clock, Duration, Duration)}, waiting between polls of
     * another process's lock with {@code sleeper} (tests pass one that advances a {@code FakeClock}).
     */
    public RedisTokenRefresher(String uri, TokenRefresher delegate, Clock clock, Sleeper sleeper,
                               Duration minRefreshInterval, Duration lockTtl) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        if (minRefreshInterval.isNegative()) {
            throw new IllegalArgumentException("minRefreshInterval must be >= 0, was " + minRefreshInterval);
        }
        if (lockTtl.isNegative() || lockTtl.isZero()) {
            throw new IllegalArgumentException("lockTtl must be > 0, was " + lockTtl);
        }
        this.minIntervalMs = minRefreshInterval.toMillis();
        this.lockTtlMs = lockTtl.toMillis();
        this.address = SecretMasking.maskUri(uri);
        RedisURI redisUri;
        try {
            redisUri = RedisURI.create(uri);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("token refresh Redis URI must be redis:// or rediss://, was \""
                    + address + "\"", e);
        }
        redisUri.setTimeout(Duration.ofSeconds(1));
        this.client = RedisClient.create(redisUri);
    }

    private synchronized RedisCommands<String, String> commands() {
        if (connection == null) {
            connection = client.connect(StringCodec.UTF8);
        }
        return connection.sync();
    }

    @Override
    public String refresh(String secretId) throws Exception {
        String lockKey = "pm:{tokens}:v1:" + secretId + ":lock";
        String tokenKey = "pm:{tokens}:v1:" + secretId + ":token";
        String me = UUID.randomUUID().toString();
        long deadline = clock.nanoTime() + Duration.ofMillis(lockTtlMs).toNanos() * 2;
        try {
            RedisCommands<String, String> redis = commands();
            while (true) {
                String recent = recentToken(redis, tokenKey);
                if (recent != null) {
                    return recent; // another process refreshed a moment ago
                }
                if ("OK".equals(redis.set(lockKey, me, SetArgs.Builder.nx().px(lockTtlMs)))) {
                    try {
                        recent = recentToken(redis, tokenKey); // it may have finished between our read and lock
                        if (recent != null) {
                            return recent;
                        }
                        String fresh = Objects.requireNonNull(delegate.refresh(secretId), "refreshed token");
                        redis.hset(tokenKey, Map.of("v", fresh, "at", Long.toString(clock.now().toEpochMilli())));
                        redis.pexpire(tokenKey, TOKEN_KEEP_MS);
                        return fresh;
                    } finally {
                        redis.eval(UNLOCK, ScriptOutputType.INTEGER, new String[] {lockKey}, me);
                    }
                }
                if (clock.nanoTime() > deadline) {
                    throw new IllegalStateException("token refresh of " + secretId + " by another process did not finish"
                            + " within " + 2 * lockTtlMs + " ms");
                }
                sleeper.sleep(LOCK_POLL_INTERVAL); // another process holds the lock: wait for it
            }
        } catch (RedisException e) {
            // Redis down: refresh for this process alone rather than fail the caller
            return delegate.refresh(secretId);
        }
    }

    private String recentToken(RedisCommands<String, String> redis, String tokenKey) {
        Map<String, String> t = redis.hgetall(tokenKey);
        String at = t.get("at");
        if (at == null || t.get("v") == null) {
            return null;
        }
        return clock.now().toEpochMilli() - Long.parseLong(at) < minIntervalMs ? t.get("v") : null;
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            connection.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    @Override
    public String toString() {
        return "RedisTokenRefresher[" + address + "]";
    }
}
