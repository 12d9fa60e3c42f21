package dev.proxymanager.middleware.store;

/** Runs the {@link SessionStore} contract against {@link InMemorySessionStore}. */
class InMemorySessionStoreTest extends SessionStoreContractTest {

    @Override
    protected SessionStore createStore() {
        return new InMemorySessionStore();
    }
}
