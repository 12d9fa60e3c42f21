package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.UsageLimit;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.FlushMode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.CommandType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the store runs its Lua in Redis: as a function library (loaded once, called with {@code FCALL}), loaded again
 * when Redis lost it, and as a script ({@code EVALSHA}) where Redis refuses functions, with the same decisions.
 */
class RedisUsageStoreFunctionTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 1_767_225_600L * SECOND;
    private static final StoreCandidate[] TWO_A_MINUTE = {
            new StoreCandidate("a", List.of(new UsageLimit(2, 60 * SECOND, 0)))};
    private static final String NO_FUNCTIONS_USER = "pm-no-functions";

    private final RedisTestServer redis = RedisTestServer.shared();
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisCommands<String, String> commands;

    @BeforeEach
    void open() {
        redis.flushAll();
        client = RedisClient.create(redis.uri());
        connection = client.connect();
        commands = connection.sync();
    }

    @AfterEach
    void close() {
        commands.aclDeluser(NO_FUNCTIONS_USER);
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }

    private long calls(String command) {
        for (String line : commands.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":calls=")) {
                return Long.parseLong(line.substring(line.indexOf('=') + 1, line.indexOf(',')));
            }
        }
        return 0;
    }

    private static boolean granted(RedisUsageStore store, long now) {
        return store.acquire("functions", TWO_A_MINUTE, 1, LeaseTerms.NONE, "l" + now, now).isGranted();
    }

    @Test
    void callsTheFunctionAndLoadsItAgainWhenRedisLostIt() {
        try (RedisUsageStore store = RedisUsageStore.builder(redis.uri()).withRedisTime(false).build()) {
            long fcalls = calls("fcall");
            assertThat(granted(store, T0)).isTrue();
            assertThat(calls("fcall")).isEqualTo(fcalls + 1);

            // as after a restart without persistence: the next call finds no function, loads it and goes on
            commands.functionFlush(FlushMode.SYNC);
            assertThat(granted(store, T0 + SECOND)).isTrue();
            assertThat(granted(store, T0 + 2 * SECOND)).as("at the limit").isFalse();
            assertThat(commands.functionList(RedisUsageStore.FUNCTION)).hasSize(1);
        }
    }

    @Test
    void runsTheSameSourceAsAScriptWhereFunctionsAreRefused() {
        commands.aclSetuser(NO_FUNCTIONS_USER, AclSetuserArgs.Builder.on().addPassword("pw")
                .allKeys().allChannels().allCommands().removeCommand(CommandType.FUNCTION)
                .removeCommand(CommandType.FCALL));
        String uri = "redis://" + NO_FUNCTIONS_USER + ":pw@127.0.0.1:" + redis.port();
        try (RedisUsageStore store = RedisUsageStore.builder(uri).withRedisTime(false).build()) {
            long evalshas = calls("evalsha");
            long fcalls = calls("fcall");
            assertThat(granted(store, T0)).isTrue();
            assertThat(granted(store, T0 + SECOND)).isTrue();
            assertThat(granted(store, T0 + 2 * SECOND)).as("at the limit").isFalse();
            assertThat(calls("evalsha")).isGreaterThanOrEqualTo(evalshas + 3);
            assertThat(calls("fcall")).isEqualTo(fcalls);
        }
    }
}
