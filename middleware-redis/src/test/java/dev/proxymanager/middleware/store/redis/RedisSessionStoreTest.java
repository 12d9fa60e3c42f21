package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.SessionStore;
import dev.proxymanager.middleware.store.SessionStoreContractTest;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the {@link SessionStore} contract against {@link RedisSessionStore} on a real redis-server. */
class RedisSessionStoreTest extends SessionStoreContractTest {

    @Override
    protected SessionStore createStore() {
        RedisTestServer redis = RedisTestServer.shared();
        return RedisSessionStore.create(redis.uri());
    }

    @Test
    void keysFollowTheDocumentedLayoutAndExpireByThemselves() {
        store.bind(endpoint, "s1", "proxy-a", 0, T0, TTL);

        RedisClient client = RedisClient.create(RedisTestServer.shared().uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            String session = "pm:{" + endpoint + "}:v1:session:s1";
            String set = "pm:{" + endpoint + "}:v1:sessions-of:proxy-a";
            assertThat(c.sync().get(session)).isEqualTo("proxy-a");
            assertThat(c.sync().zscore(set, "s1")).isEqualTo((double) (T0 + TTL.toMillis()));
            long bound = TTL.plus(RedisSessionStore.EXPIRY_SLACK).toMillis();
            assertThat(c.sync().pttl(session)).isBetween(bound - 5_000, bound);
            assertThat(c.sync().pttl(set)).isBetween(bound - 5_000, bound);
        } finally {
            client.shutdown();
        }
    }
}
