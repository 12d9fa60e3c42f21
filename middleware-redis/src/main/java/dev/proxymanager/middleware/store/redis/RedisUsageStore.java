package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.SecretMasking;
import dev.proxymanager.middleware.quota.UpstreamQuota;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageLimit;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStoreFailedException;
import dev.proxymanager.middleware.store.UsageStoreUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A {@link UsageStore} in Redis, shared by every process that points at the same server, so limits, leases and
 * cooldowns hold for a whole fleet. Each call is one round trip that does the whole operation atomically: one
 * {@code FCALL} of a Lua function (Redis 7.0 or newer; loaded on first use and again after "Function not found", e.g.
 * when Redis restarted), or, where Redis refuses functions, one {@code EVALSHA} of the same source as a script.
 *
 * <p>Keys are {@code pm:{<endpoint>}:v1:<secretId>:log|st|ls|uq} (see {@code docs/redis.md}): the hash tag puts one
 * endpoint's keys in one Redis Cluster slot, {@code v1} is the key format version, and every key has an expiry
 * (windows are trimmed to the largest limit; leases are entries with their own expiry, so a process that dies loses
 * its leases after the lease TTL).
 *
 * <p>The connection is opened on first use, so a process may start while Redis is down; afterwards the client
 * reconnects by itself. While disconnected, calls fail at once (commands are not queued) and every failure to reach
 * Redis is a {@link UsageStoreUnavailableException}; wrap the store in a
 * {@link dev.proxymanager.middleware.store.FailoverUsageStore} to turn that into fail-open or fail-closed behaviour.
 * A script error (a bug, not an outage) is a {@link UsageStoreFailedException}.
 *
 * <p>This class is threadsafe: concurrent calls share one connection and are pipelined.
 */
public final class RedisUsageStore implements UsageStore {

    /** Version of the key layout; part of every key name. */
    public static final String FORMAT_VERSION = "v1";

    /** usage-store.lua: its helpers and {@code run(KEYS, ARGV)}, without the ending of either way of running it. */
    private static final String SOURCE = loadScript();
    /** As a script, for {@code EVALSHA} where Redis refuses functions (before 7.0, or an ACL without them). */
    static final String SCRIPT = SOURCE + "\nreturn run(KEYS, ARGV)\n";
    static final String SCRIPT_SHA = sha1(SCRIPT);
    private static final byte[] SCRIPT_SHA_BYTES = SCRIPT_SHA.getBytes(StandardCharsets.US_ASCII);
    /**
     * The library's and its function's name: versioned by the source's hash, so processes running different
     * versions of the store on one Redis each call their own (libraries are never replaced, only added).
     */
    static final String FUNCTION = "pm_usage_" + sha1(SOURCE).substring(0, 16);
    private static final byte[] FUNCTION_BYTES = FUNCTION.getBytes(StandardCharsets.US_ASCII);
    /** As a function library, for {@code FUNCTION LOAD}: the helpers are created once at load, not on every call. */
    static final String LIBRARY = "#!lua name=" + FUNCTION + "\n" + SOURCE + "\nredis.register_function('" + FUNCTION
            + "', function(keys, args) return run(keys, args) end)\n";

    private static final long MIN_KEEP_MS = 60_000;
    /**
     * How far from the caller's estimate a re-stamped use may be found with Redis's clock: the estimate is off only
     * by how much the clock offset moved since the grant (well under a millisecond unless a clock jumped).
     */
    private static final long RESTAMP_MATCH_MICROS = 50_000;
    /** A view's fields before its per-limit uses: removed, cooldown end, live leases, earliest lease end. */
    private static final int VIEW_FIELDS = 4;
    /** Keys per secret: log, state, leases, upstream quota. */
    private static final int KEYS_PER_SECRET = 4;
    /** A limit's window position in a block when it can never admit the call's units (fewer requests than units). */
    private static final String NEVER_INDEX = "";
    /** The use the script reports for such a limit's window: it never frees. */
    private static final String NEVER_USE = "~";
    /**
     * The usage answer's last fields, for the secret's upstream report and then each route bucket's: the limit,
     * remaining, reset, learned at, policy.
     */
    private static final int QUOTA_FIELDS = 5;
    /**
     * In a view, after the use of a route bucket's first limit: the bucket's upstream report is used up until the time
     * that follows.
     */
    private static final char UPSTREAM_MARK = '@';

    private final RedisURI uri;
    private final String maskedUri;
    private final String prefix;
    private final long stateTtlMs;
    private final long timeoutNanos;
    private final ClientResources resources;
    private final RedisClient client;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, SecretKeys>> keys = new ConcurrentHashMap<>();
    private final boolean redisTime;
    private final StoreClock storeClock = new StoreClock();
    private volatile StatefulRedisConnection<String, String> connection;
    /** Whether calls go as {@code FCALL} (true) or {@code EVALSHA} (false); null until Redis was asked. */
    private volatile Boolean functions;
    private volatile boolean closed;

    private RedisUsageStore(Builder b) {
        this.uri = b.uri;
        this.maskedUri = SecretMasking.maskUri(b.uriText);
        this.prefix = b.keyPrefix;
        this.stateTtlMs = b.stateTtl.toMillis();
        this.timeoutNanos = b.commandTimeout.toNanos();
        this.redisTime = b.redisTime;
        // reconnect quickly after an outage (the default backs off to 30 s): recovery should follow Redis's return
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .nettyCustomizer(new FlushConsolidation())
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // an outage must surface at once so the failover mode applies, not queue requests for minutes
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(b.commandTimeout).build())
                .timeoutOptions(TimeoutOptions.builder().timeoutCommands(false).build()) // await() bounds each call
                .build());
        uri.setTimeout(b.commandTimeout);
    }

    /**
     * A builder for a store at {@code uri}, e.g. {@code redis://127.0.0.1:6379}, {@code redis://:password@host:6379/0}
     * or {@code rediss://host} (TLS).
     *
     * @throws NullPointerException if {@code uri} is null
     * @throws IllegalArgumentException if it is not a Redis URI
     */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    /** The store's address with any password masked. */
    public String address() {
        return maskedUri;
    }

    /** Whether the connection to Redis is open right now (false before first use and during an outage). */
    public boolean isConnected() {
        StatefulRedisConnection<String, String> c = connection;
        return c != null && c.isOpen();
    }

    /**
     * Sends {@code PING}; true when Redis answered. Never throws. A connection found closed is replaced by a new one
     * first: Lettuce's own reconnect may be up to a second away, and a probe should see Redis as soon as it is back.
     */
    public boolean ping() {
        synchronized (this) {
            StatefulRedisConnection<String, String> c = connection;
            if (c != null && !c.isOpen()) {
                connection = null;
                c.closeAsync();
            }
        }
        try {
            return "PONG".equals(await(commands("ping").ping(), "ping"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                 String leaseId, long now, int units) {
        checkUnits(units);
        if (count <= 0) {
            return new StoreDecision(-1, List.of(), 0);
        }
        ScriptCall call = call("acquire", "acquire", now(now), endpoint, candidates, count);
        if (terms.leased()) {
            call.number(terms.maxHolders()).argument(Objects.requireNonNull(leaseId, "leaseId"))
                    .number(ceilMicros(terms.ttlNanos()));
        } else {
            call.number(0).argument("").argument("");
        }
        call.number(stateTtlMs).number(units);
        for (int i = 0; i < count; i++) {
            addBlock(call, candidates[i], units);
        }
        List<Object> r = evalJoined(call);
        int granted = toInt(r.get(0));
        String cap = (String) r.get(1);
        String storeNowText = (String) r.get(2);
        long offset = offset(storeNowText, now);
        long storeNow = now + offset;
        List<Availability> examined = new ArrayList<>(granted < 0 ? count : granted + 1);
        int at = 3;
        for (int i = 0; at < r.size(); i++) {
            examined.add(local(availability(r, at, candidates[i], terms, storeNow), now, offset));
            at += VIEW_FIELDS + candidates[i].allLimits();
        }
        return new StoreDecision(granted, examined, cap.isEmpty() ? 0 : TimeCodec.decode(cap) - offset);
    }

    private static void checkUnits(int units) {
        if (units < 1) {
            throw new IllegalArgumentException("units must be >= 1, was " + units);
        }
    }

    @Override
    public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                long cooldownUntil, boolean remove) {
        long offset = storeClock.offset();
        ScriptCall call = call("release", "release", estimatedNow(now, offset), endpoint, secret)
                .number(terms.leased() ? 1 : 0).argument(leaseId == null ? "" : leaseId);
        if (cooldownUntil > 0) {
            call.time(cooldownUntil + offset);
        } else {
            call.argument("");
        }
        call.number(remove ? 1 : 0).number(stateTtlMs);
        addViewBlock(call, secret);
        return local(availability(evalJoined(call), 1, secret, terms, now + offset), now, offset);
    }

    @Override
    public Availability giveBack(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId,
                                 long usedAt, long now, int units) {
        checkUnits(units);
        // decides no grant: the caller's estimate of Redis's time, as release; the use is found as restamp finds it
        long offset = storeClock.offset();
        ScriptCall call = call("giveBack", "giveback", estimatedNow(now, offset), endpoint, secret)
                .number(terms.leased() ? 1 : 0).argument(terms.leased() && leaseId != null ? leaseId : "")
                .time(usedAt + offset).number(redisTime ? RESTAMP_MATCH_MICROS : 0).number(units);
        addBlock(call, secret, 1);
        return local(availability(evalJoined(call), 1, secret, terms, now + offset), now, offset);
    }

    @Override
    public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now,
                                int units) {
        checkUnits(units);
        // with Redis's clock the use was recorded at Redis's time: the script takes the nearest use to this estimate
        ScriptCall call = call("restamp", "restamp", now(now), endpoint, secret)
                .time(usedAt + storeClock.offset()).number(redisTime ? RESTAMP_MATCH_MICROS : 0).number(units);
        addBlock(call, secret, units);
        List<Object> r = eval(call);
        String storeNowText = (String) r.get(0);
        long offset = offset(storeNowText, now);
        long storeNow = now + offset;
        long[] freeAt = limitsFreeAt(r, 1, secret, storeNow);
        return local(Availability.decide(storeNow, false, 0, freeAt[0], (int) freeAt[1], false, 0), now, offset);
    }

    @Override
    public void recordQuota(String endpoint, String secretId, UpstreamQuota quota, long now) {
        if (!quota.liveAt(now)) {
            return;
        }
        // the script compares the report's times with Redis's: they go over on its clock, as the caller estimates it
        long offset = storeClock.offset();
        eval(call("recordQuota", "quota", estimatedNow(now, offset), endpoint, secretId)
                .number(quota.limit()).number(quota.remaining())
                .time(quota.resetAt() + offset).time(quota.learnedAt() + offset).argument(quota.policy())
                .time(Math.max(0, quota.resetAt() + offset - UpstreamQuota.SAME_WINDOW_NANOS))
                .time(Clock.plus(quota.resetAt() + offset, UpstreamQuota.SAME_WINDOW_NANOS)));
    }

    @Override
    public void restore(String endpoint, String secretId) {
        eval(call("restore", "restore", "0", endpoint, secretId));
    }

    @Override
    public void remove(String endpoint, String secretId) {
        eval(call("remove", "remove", "0", endpoint, secretId).number(stateTtlMs));
    }

    @Override
    public void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes) {
        ScriptCall call = call("recordPastUses", "past", "0", endpoint, secret).number(stateTtlMs);
        addBlock(call, secret, 1);
        long offset = storeClock.offset();
        for (long t : useTimes) {
            call.time(t + offset);
        }
        eval(call);
    }

    @Override
    public SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now) {
        // Redis's own now (not the estimate): a use another process made a moment ago is counted, not taken for
        // clock skew, so stats show every process's uses (a group's window above all)
        ScriptCall call = call("usage", "usage", now(now), endpoint, secret).number(terms.leased() ? 1 : 0);
        addBlock(call, secret, 1);
        List<Object> r = eval(call);
        long total = (Long) r.get(0);
        long offset = offset((String) r.get(1), now);
        long storeNow = now + offset;
        Availability a = local(availability(r, 2, secret, terms, storeNow), now, offset);
        boolean removed = !((String) r.get(2)).isEmpty();
        long cooldownUntil = time(r.get(3));
        int holders = toInt(r.get(4));
        int limits = secret.allLimits();
        List<Integer> counts = new ArrayList<>(limits);
        List<StoreCandidate> routes = secret.routes();
        int quotaAt = r.size() - QUOTA_FIELDS * (1 + routes.size());
        for (int i = 2 + VIEW_FIELDS + limits; i < quotaAt; i++) {
            counts.add(toInt(r.get(i)));
        }
        Map<String, UpstreamQuota> routeUpstream = new HashMap<>();
        for (int p = 0; p < routes.size(); p++) {
            UpstreamQuota q = upstream(r, quotaAt + QUOTA_FIELDS * (p + 1), offset);
            if (q != null) {
                routeUpstream.put(routes.get(p).secretId(), q);
            }
        }
        return new SecretUsage(counts, total, holders, cooldownUntil > storeNow ? cooldownUntil - offset : 0, removed,
                a, upstream(r, quotaAt, offset), routeUpstream);
    }

    /** An upstream report from a usage answer's five fields at {@code r[at..]}; {@code null} when none holds. */
    private static UpstreamQuota upstream(List<Object> r, int at, long offset) {
        if (((String) r.get(at + 2)).isEmpty()) {
            return null;
        }
        String limit = (String) r.get(at);
        return new UpstreamQuota((String) r.get(at + 4), limit.isEmpty() ? -1 : Long.parseLong(limit),
                Math.max(0, Long.parseLong((String) r.get(at + 1))), time(r.get(at + 2)) - offset,
                time(r.get(at + 3)) - offset);
    }

    @Override
    public void forget(String endpoint, String secretId) {
        eval(call("forget", "forget", "0", endpoint, secretId));
        ConcurrentHashMap<String, SecretKeys> ep = keys.get(endpoint);
        if (ep != null) {
            ep.remove(secretId);
        }
    }

    /** Every process pointing at the same Redis shares its state. */
    @Override
    public boolean sharedAcrossProcesses() {
        return true;
    }

    /** Closes the connection and the client's threads. Later calls fail with {@link IllegalStateException}. */
    @Override
    public void close() {
        closed = true;
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "RedisUsageStore[" + maskedUri + ", " + (isConnected() ? "connected" : "not connected") + "]";
    }

    /** The key names of a secret: log, state, leases, upstream quota. */
    String[] keysOf(String endpoint, String secretId) {
        return keys(endpoint, secretId).names().clone();
    }

    /**
     * A call about candidates {@code cs[0..count)}: per candidate its four keys, then the log of each of its
     * {@linkplain StoreCandidate#shares() shared parts} (route buckets, then the group; none when it has neither),
     * then the state and upstream-quota hashes of each route bucket (where a bucket's own upstream report lives).
     */
    private ScriptCall call(String operation, String scriptOperation, String now, String endpoint,
                            StoreCandidate[] cs, int count) {
        int numKeys = 0;
        for (int i = 0; i < count; i++) {
            numKeys += KEYS_PER_SECRET + cs[i].shares().size() + 2 * cs[i].routes().size();
        }
        ScriptCall call = new ScriptCall(operation, target(operation), numKeys);
        for (int i = 0; i < count; i++) {
            call.keys(keys(endpoint, cs[i].secretId()));
            List<StoreCandidate> shares = cs[i].shares();
            for (int p = 0; p < shares.size(); p++) {
                call.key(keys(endpoint, shares.get(p).secretId()).encoded()[0]);
            }
            List<StoreCandidate> routes = cs[i].routes();
            for (int p = 0; p < routes.size(); p++) {
                byte[][] route = keys(endpoint, routes.get(p).secretId()).encoded();
                call.key(route[1]).key(route[3]);
            }
        }
        return call.operation(scriptOperation, now);
    }

    private ScriptCall call(String operation, String scriptOperation, String now, String endpoint,
                            StoreCandidate secret) {
        return call(operation, scriptOperation, now, endpoint, new StoreCandidate[] {secret}, 1);
    }

    /** A call about one secret by id: its four keys, no shared part. */
    private ScriptCall call(String operation, String scriptOperation, String now, String endpoint, String secretId) {
        return new ScriptCall(operation, target(operation), KEYS_PER_SECRET).keys(keys(endpoint, secretId))
                .operation(scriptOperation, now);
    }

    private SecretKeys keys(String endpoint, String secretId) {
        // plain reads first: computeIfAbsent with a capturing lambda costs an allocation on every call
        ConcurrentHashMap<String, SecretKeys> ep = keys.get(endpoint);
        if (ep == null) {
            ep = keys.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>());
        }
        SecretKeys k = ep.get(secretId);
        return k != null ? k : ep.computeIfAbsent(secretId,
                id -> SecretKeys.of(prefix + ":{" + endpoint + "}:" + FORMAT_VERSION + ":" + id));
    }

    /** A secret's key names, and their bytes as sent (encoded once, not on every call). */
    private record SecretKeys(String[] names, byte[][] encoded) {
        static SecretKeys of(String base) {
            String[] names = {base + ":log", base + ":st", base + ":ls", base + ":uq"};
            byte[][] encoded = new byte[KEYS_PER_SECRET][];
            for (int i = 0; i < KEYS_PER_SECRET; i++) {
                encoded[i] = names[i].getBytes(StandardCharsets.UTF_8);
            }
            return new SecretKeys(names, encoded);
        }
    }

    /**
     * One {@code FCALL} of the function or {@code EVALSHA} of the script, its arguments written the way Lettuce sends
     * them: keys as their cached bytes, numbers and today's times as digits without an intermediate String (encoding
     * each call's ~20 arguments was a quarter of the client's CPU through the codec).
     */
    private static final class ScriptCall {
        final String operation;
        /** Whether it calls the function (else the script). */
        final boolean function;
        final CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8);

        /**
         * @param operation the store operation, for errors
         * @param function whether to call the function (FCALL) rather than the script (EVALSHA)
         * @param numKeys how many keys follow
         */
        ScriptCall(String operation, boolean function, int numKeys) {
            this.operation = operation;
            this.function = function;
            args.add(function ? FUNCTION_BYTES : SCRIPT_SHA_BYTES).add((long) numKeys);
        }

        /** A secret's four keys. */
        ScriptCall keys(SecretKeys secret) {
            for (byte[] key : secret.encoded()) {
                args.add(key);
            }
            return this;
        }

        ScriptCall key(byte[] key) {
            args.add(key);
            return this;
        }

        /**
         * @param scriptOperation the script's operation (ARGV[1])
         * @param now the caller's time as the script takes it (ARGV[2]): '' for Redis's own clock
         */
        ScriptCall operation(String scriptOperation, String now) {
            args.add(scriptOperation).add(now);
            return this;
        }

        ScriptCall argument(String text) {
            args.add(text);
            return this;
        }

        ScriptCall number(long n) {
            args.add(n);
            return this;
        }

        ScriptCall time(long t) {
            if (TimeCodec.isPlainDecimal(t)) {
                args.add(t);
            } else {
                args.add(TimeCodec.encode(t));
            }
            return this;
        }
    }

    /**
     * A candidate's block (see usage-store.lua): its own part, then the number of its shared parts (route buckets,
     * then the group), the number of its route buckets, and each shared part, which the script decides and records
     * in the same way on their logs.
     */
    private static void addBlock(ScriptCall call, StoreCandidate c, int units) {
        addLimits(call, c, units, true);
        List<StoreCandidate> shares = c.shares();
        call.number(shares.size()).number(c.routes().size());
        for (int p = 0; p < shares.size(); p++) {
            addLimits(call, shares.get(p), units, false); // usage caps are the secret's own
        }
    }

    /**
     * A block for a call that only shows a view (release): per part its number of limits and, per limit, the index of
     * the use its window turns on for one more use.
     */
    private static void addViewBlock(ScriptCall call, StoreCandidate c) {
        addViewLimits(call, c);
        List<StoreCandidate> shares = c.shares();
        call.number(shares.size()).number(c.routes().size());
        for (int p = 0; p < shares.size(); p++) {
            addViewLimits(call, shares.get(p));
        }
    }

    private static void addViewLimits(ScriptCall call, StoreCandidate c) {
        List<UsageLimit> limits = c.limits();
        call.number(limits.size());
        for (UsageLimit l : limits) {
            call.number(l.requests() - 1);
        }
    }

    /**
     * One log's part of a block: per limit the index of the use its window turns on for {@code units} uses (the
     * script reads the one for one more after them just before it), its spacing (window plus guard band) and its
     * cooldown, in microseconds; then the log's capacity and its expiry.
     */
    private static void addLimits(ScriptCall call, StoreCandidate c, int units, boolean cooldowns) {
        List<UsageLimit> limits = c.limits();
        call.number(limits.size());
        long keep = 0;
        for (UsageLimit l : limits) {
            int hi = l.requests() - units;
            if (hi < 0) {
                call.argument(NEVER_INDEX);
            } else {
                call.number(hi);
            }
            call.number(l.spacingNanos() / 1000); // whole microseconds by construction
            if (cooldowns && l.cooldownNanos() > 0) {
                call.number(ceilMicros(l.cooldownNanos()));
            } else {
                call.argument("");
            }
            keep = Math.max(keep, l.spacingNanos());
        }
        call.number(c.logCapacity());
        // a window's uses matter for one window length; keep a minute more for clock skew and slow callers
        call.number(Math.max(MIN_KEEP_MS, ceilMillis(keep) + MIN_KEEP_MS));
    }

    /**
     * The availability of a secret from the script's view of it at {@code r[at..]}: removed, cooldown end, live
     * leases, earliest lease end, then per limit (the secret's, then its group's) the use its window turns on.
     */
    private static Availability availability(List<Object> r, int at, StoreCandidate c, LeaseTerms terms, long now) {
        long[] freeAt = limitsFreeAt(r, at + VIEW_FIELDS, c, now);
        boolean leasesFull = terms.leased() && toInt(r.get(at + 2)) >= terms.maxHolders();
        return Availability.decide(now, !((String) r.get(at)).isEmpty(), time(r.get(at + 1)), freeAt[0],
                (int) freeAt[1], leasesFull, time(r.get(at + 3)));
    }

    /**
     * When the limits free up, from the uses their windows turn on at {@code r[at..]} (the secret's limits, then its
     * route buckets', then its group's): that time (at least {@code now}; {@link Long#MAX_VALUE} for a limit smaller
     * than the call's units) and the index of the limit that frees last, -1 for none reached.
     */
    private static long[] limitsFreeAt(List<Object> r, int at, StoreCandidate c, long now) {
        long limitsFreeAt = now;
        int limit = -1; // no limit reached
        int j = 0;
        List<StoreCandidate> shares = c.shares();
        for (int p = -1; p < shares.size(); p++) {
            List<UsageLimit> limits = p < 0 ? c.limits() : shares.get(p).limits();
            for (int k = 0; k < limits.size(); k++, j++) {
                String use = (String) r.get(at + j);
                long f = Long.MIN_VALUE;
                int upstream = use.indexOf(UPSTREAM_MARK); // a route bucket's upstream report used up until then
                if (upstream >= 0) {
                    f = TimeCodec.decode(use.substring(upstream + 1));
                    use = use.substring(0, upstream);
                }
                if (!use.isEmpty()) {
                    f = Math.max(f, use.equals(NEVER_USE) ? Long.MAX_VALUE
                            : Clock.plus(TimeCodec.decode(use), limits.get(k).spacingNanos()));
                }
                if (f > limitsFreeAt) {
                    limitsFreeAt = f;
                    limit = j;
                }
            }
        }
        return new long[]{limitsFreeAt, limit};
    }

    /** The script's now argument: the caller's time, or '' for Redis's clock. */
    private String now(long callerNow) {
        return redisTime ? "" : TimeCodec.encode(callerNow);
    }

    /**
     * For the operations that grant nothing (release, quota reports): Redis's time as the caller estimates it, which spares
     * the script a {@code TIME} call; it only decides which leases have ended and what a view shows.
     */
    private static String estimatedNow(long callerNow, long offset) {
        return TimeCodec.encode(callerNow + offset);
    }

    /** Learns the store clock's offset from a call's answer, and returns the offset to convert this call's times. */
    private long offset(String storeNowText, long callerNow) {
        if (!redisTime) {
            return 0;
        }
        return storeClock.sample(TimeCodec.decode(storeNowText) - callerNow, callerNow);
    }

    /**
     * An availability worked out on the store's timeline, on the caller's: a secret free now is free at the caller's
     * {@code now}; any other time moves by the offset.
     */
    private static Availability local(Availability a, long now, long offset) {
        if (offset == 0 || a.cause() == UnavailableCause.REMOVED) {
            return a;
        }
        if (a.cause() == UnavailableCause.READY) {
            return new Availability(now, UnavailableCause.READY);
        }
        if (a.freeAt() == Long.MAX_VALUE) {
            return a; // never: on every clock
        }
        return new Availability(Math.max(now, a.freeAt() - offset), a.cause(), a.limit());
    }

    /** A time from the script, 0 for none. */
    private static long time(Object text) {
        String s = (String) text;
        return s.isEmpty() ? 0 : TimeCodec.decode(s);
    }

    private static long ceilMicros(long nanos) {
        return nanos / 1_000 + (nanos % 1_000 == 0 ? 0 : 1);
    }

    private static long ceilMillis(long nanos) {
        return nanos / 1_000_000 + (nanos % 1_000_000 == 0 ? 0 : 1);
    }

    /** A count from the script: an integer reply, or a field of a joined one. */
    private static int toInt(Object o) {
        return o instanceof Long l ? l.intValue() : Integer.parseInt((String) o);
    }

    private List<Object> eval(ScriptCall call) {
        return eval(call, () -> new NestedMultiOutput<>(StringCodec.UTF8));
    }

    /** A call whose answer is its fields joined by commas (acquire, release), as the list of those fields. */
    private List<Object> evalJoined(ScriptCall call) {
        String joined = eval(call, () -> new ValueOutput<>(StringCodec.UTF8));
        return Arrays.asList((Object[]) joined.split(",", -1));
    }

    private <T> T eval(ScriptCall call, Supplier<CommandOutput<String, String, T>> output) {
        String operation = call.operation;
        // the async API, awaited here: the sync API's proxy costs a reflective lookup per call
        RedisAsyncCommands<String, String> cmd = commands(operation);
        try {
            if (call.function) {
                try {
                    return await(cmd.dispatch(CommandType.FCALL, output.get(), call.args),
                            operation);
                } catch (RedisCommandExecutionException e) {
                    if (!String.valueOf(e.getMessage()).startsWith("ERR Function not found")) {
                        throw e;
                    }
                    loadLibrary(cmd, operation); // Redis restarted without persistence, or its functions were flushed
                    return await(cmd.dispatch(CommandType.FCALL, output.get(), call.args),
                            operation);
                }
            }
            try {
                return await(cmd.dispatch(CommandType.EVALSHA, output.get(), call.args),
                        operation);
            } catch (RedisNoScriptException e) {
                await(cmd.scriptLoad(SCRIPT), operation); // first use on this server, or it restarted and lost its scripts
                return await(cmd.dispatch(CommandType.EVALSHA, output.get(), call.args),
                        operation);
            }
        } catch (RedisCommandExecutionException e) {
            if (isOutage(e)) {
                throw unavailable(operation, e);
            }
            if (call.function && refusesFunctions(e)) {
                functions = null; // another server behind the address (older, or other ACLs): ask it again
                throw unavailable(operation, e);
            }
            throw new UsageStoreFailedException("usage store " + maskedUri + " failed during " + operation
                    + ": script error: " + e.getMessage(), e);
        } catch (RedisException e) {
            throw unavailable(operation, e);
        }
    }

    /**
     * Whether calls go as {@code FCALL} of the library (true) or {@code EVALSHA} of the script: the first call asks
     * Redis by loading the library ({@code FUNCTION LOAD}, Redis 7.0 or newer); where that is refused (an older
     * Redis, an ACL without {@code FUNCTION}) the script does the same work.
     */
    private boolean target(String operation) {
        Boolean f = functions;
        if (f != null) {
            return f;
        }
        synchronized (this) { // one caller asks; those arriving meanwhile wait for its answer
            if (functions == null) {
                RedisAsyncCommands<String, String> cmd = commands(operation);
                try {
                    loadLibrary(cmd, operation);
                    functions = true;
                } catch (RedisCommandExecutionException e) {
                    if (isOutage(e)) {
                        throw unavailable(operation, e);
                    }
                    functions = false;
                } catch (RedisException e) {
                    throw unavailable(operation, e);
                }
            }
            return functions;
        }
    }

    /** {@code FUNCTION LOAD} of the library; already loaded (by another process or caller) is as good. */
    private void loadLibrary(RedisAsyncCommands<String, String> cmd, String operation) {
        try {
            await(cmd.functionLoad(LIBRARY), operation);
        } catch (RedisCommandExecutionException e) {
            if (!String.valueOf(e.getMessage()).contains("already exists")) {
                throw e;
            }
        }
    }

    private static boolean refusesFunctions(RedisCommandExecutionException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("NOPERM") || m.contains("unknown command");
    }

    private <T> T await(RedisFuture<T> future, String operation) {
        try {
            // bounded here rather than by a timer task per command (TimeoutOptions), which costs more CPU
            return future.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RedisException re) {
                throw re;
            }
            throw unavailable(operation, new RedisException(String.valueOf(e.getCause()), e.getCause()));
        } catch (TimeoutException e) {
            future.cancel(false);
            throw unavailable(operation, new RedisException("no answer within " + Duration.ofNanos(timeoutNanos), e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(operation, new RedisException("interrupted while waiting for Redis", e));
        }
    }

    private static boolean isOutage(RedisCommandExecutionException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("LOADING") || m.startsWith("BUSY") || m.startsWith("MASTERDOWN") || m.startsWith("READONLY")
                || m.startsWith("TRYAGAIN") || m.startsWith("CLUSTERDOWN") || m.startsWith("NOAUTH") || m.startsWith("OOM");
    }

    private RedisAsyncCommands<String, String> commands(String operation) {
        if (closed) {
            throw new IllegalStateException("usage store " + maskedUri + " is closed");
        }
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            synchronized (this) {
                c = connection;
                if (c == null) {
                    try {
                        c = client.connect(StringCodec.UTF8);
                    } catch (RedisException e) {
                        throw unavailable(operation, e);
                    }
                    connection = c;
                }
            }
        }
        return c.async();
    }

    private UsageStoreUnavailableException unavailable(String operation, RuntimeException e) {
        String why = e.getMessage();
        if (e.getCause() != null && e.getCause().getMessage() != null) {
            why = why + " (" + e.getCause().getMessage() + ")";
        }
        return new UsageStoreUnavailableException("usage store " + maskedUri + " unavailable during " + operation + ": "
                + why, e);
    }

    private static String loadScript() {
        try (InputStream in = RedisUsageStore.class.getResourceAsStream("usage-store.lua")) {
            if (in == null) {
                throw new IllegalStateException("usage-store.lua is missing from the middleware jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read usage-store.lua", e);
        }
    }

    static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }

    /**
     * Lets the commands that concurrent callers queued on the connection leave in one socket write: by default each
     * command is flushed, one system call per command, which costs the client and Redis more CPU than the command.
     */
    private static final class FlushConsolidation implements NettyCustomizer {
        @Override
        public void afterChannelInitialized(Channel channel) {
            channel.pipeline().addFirst(new FlushConsolidationHandler(
                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
    }

    /**
     * Settings of a {@link RedisUsageStore}. Not threadsafe; {@link #build()} copies them.
     */
    public static final class Builder {
        private final String uriText;
        private final RedisURI uri;
        private Duration commandTimeout = Duration.ofSeconds(1);
        private Duration stateTtl = Duration.ofDays(7);
        private String keyPrefix = "pm";
        private boolean redisTime = true;

        private Builder(String uri) {
            Objects.requireNonNull(uri, "uri");
            this.uriText = uri;
            try {
                this.uri = RedisURI.create(uri);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("usage_store.uri must be a redis:// or rediss:// URI, was \""
                        + SecretMasking.maskUri(uri) + "\"", e);
            }
        }

        /**
         * How long one call may take before Redis counts as unavailable (also the connect timeout).
         * Default 1 second.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder withCommandTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "commandTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("commandTimeout must be > 0, was " + timeout);
            }
            this.commandTimeout = timeout;
            return this;
        }

        /**
         * How long a secret's state (total uses, removal) lives after its last change; cooldowns always live until
         * they end. Default 7 days.
         *
         * @throws IllegalArgumentException if shorter than one minute
         */
        public Builder withStateTtl(Duration ttl) {
            Objects.requireNonNull(ttl, "stateTtl");
            if (ttl.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new IllegalArgumentException("stateTtl must be >= 1 minute, was " + ttl);
            }
            this.stateTtl = ttl;
            return this;
        }

        /**
         * The first part of every key name, so several deployments can share one Redis. Default {@code pm}.
         *
         * @throws IllegalArgumentException if blank or containing braces (they would break the hash tag)
         */
        public Builder withKeyPrefix(String prefix) {
            Objects.requireNonNull(prefix, "keyPrefix");
            if (prefix.isBlank() || prefix.contains("{") || prefix.contains("}")) {
                throw new IllegalArgumentException("keyPrefix must be non-blank without braces, was \"" + prefix + "\"");
            }
            this.keyPrefix = prefix;
            return this;
        }

        /**
         * Whether decisions use Redis's clock ({@code TIME} in the script; default true) or the time each caller
         * passes. With Redis's clock, processes whose clocks differ cannot each grant the same slot of a window, and
         * the times the store returns are moved onto the caller's clock by an offset it learns from each answer.
         * The caller's time is for tests that drive the store with a fake clock.
         */
        public Builder withRedisTime(boolean redisTime) {
            this.redisTime = redisTime;
            return this;
        }

        /** A store with these settings; it connects on first use. */
        public RedisUsageStore build() {
            return new RedisUsageStore(this);
        }
    }
}
