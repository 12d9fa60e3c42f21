/**
 * Shared usage state behind {@link dev.proxymanager.middleware.store.UsageStore}: recent use times, total uses,
 * leases, cooldowns and removals. {@link dev.proxymanager.middleware.store.InMemoryUsageStore} ships here; a networked
 * store implements the same one-call-per-operation primitives (see {@code docs/usage-store.md}) and runs
 * {@code UsageStoreContractTest}.
 */
package dev.proxymanager.middleware.store;
