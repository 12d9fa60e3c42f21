package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Secrets without an id, as most proxy set-ups write them (one gateway, the session in the user name), keyed in a
 * shared Redis by their derived ids: each is counted on its own, and two processes loading the same secrets.json
 * count against the same keys.
 */
class DerivedSecretIdsSharedTest {

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private final RedisUsageStore storeA = freshStore();
    @AutoClose
    private final RedisUsageStore storeB = RedisUsageStore.builder(RedisTestServer.shared().uri()).build();

    @TempDir
    Path dir;

    private static RedisUsageStore freshStore() {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        return RedisUsageStore.builder(redis.uri()).build();
    }

    @Test
    void gatewaySessionsAreCountedApartAndAlikeInEveryProcess() throws Exception {
        // given four sessions of one gateway, one use a minute each, loaded by two processes from one file
        Path file = dir.resolve("secrets.json");
        Files.writeString(file, """
                { "endpoints": { "gw": { "type": "proxy", "limits": [ { "requests": 1, "per": "60s" } ],
                  "secrets": [ "http://user-session-1:pw@gw.example.net:22225", "http://user-session-2:pw@gw.example.net:22225",
                               "http://user-session-3:pw@gw.example.net:22225", "http://user-session-4:pw@gw.example.net:22225" ] } } }
                """);
        RotationEngine processA = RotationEngine.builder().withClock(clock).withStore(storeA)
                .withConfig(SecretsConfig.load(file)).build();
        RotationEngine processB = RotationEngine.builder().withClock(clock).withStore(storeB)
                .withConfig(SecretsConfig.load(file)).build();

        // when each process takes two
        Set<String> used = new HashSet<>();
        for (RotationEngine process : new RotationEngine[] {processA, processA, processB, processB}) {
            AcquireResult.Granted g = (AcquireResult.Granted) process.acquire("gw");
            used.add(g.lease().secretId());
            process.release(g.lease(), Outcome.success());
        }

        // then four different sessions served, and neither process sees a fifth free one
        assertThat(used).hasSize(4);
        assertThat(processA.acquire("gw")).isInstanceOf(AcquireResult.Denied.class);
        assertThat(processB.acquire("gw")).isInstanceOf(AcquireResult.Denied.class);
    }
}
