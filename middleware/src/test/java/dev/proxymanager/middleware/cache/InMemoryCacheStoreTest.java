package dev.proxymanager.middleware.cache;

class InMemoryCacheStoreTest extends CacheStoreContractTest {
    @Override
    CacheStore createStore() {
        return new InMemoryCacheStore();
    }
}
