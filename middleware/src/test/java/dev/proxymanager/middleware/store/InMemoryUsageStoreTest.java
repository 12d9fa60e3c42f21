package dev.proxymanager.middleware.store;

/** Runs the {@link UsageStore} contract against {@link InMemoryUsageStore}. */
class InMemoryUsageStoreTest extends UsageStoreContractTest {

    @Override
    protected UsageStore createStore() {
        return new InMemoryUsageStore();
    }
}
