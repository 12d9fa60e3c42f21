package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStoreContractTest;
import dev.proxymanager.testsupport.redis.RedisTestServer;

/** Runs the {@link UsageStore} contract against {@link RedisUsageStore} on a real redis-server. */
class RedisUsageStoreContractTest extends UsageStoreContractTest {

    @Override
    protected UsageStore createStore() {
        RedisTestServer redis = RedisTestServer.shared();
        redis.flushAll();
        return RedisUsageStore.builder(redis.uri()).withRedisTime(false).build();
    }
}
