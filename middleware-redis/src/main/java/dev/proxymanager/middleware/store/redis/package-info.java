/**
 * The Redis backend of the usage store: {@link dev.proxymanager.middleware.store.redis.RedisUsageStore} (one Lua
 * script call per operation, keys {@code pm:{endpoint}:v1:...} with expiries) and
 * {@link dev.proxymanager.middleware.store.redis.RedisTokenRefresher} (auxiliary token refresh single-flight across
 * processes). Build the configured store with {@link dev.proxymanager.middleware.store.UsageStores}; see
 * {@code docs/redis.md}.
 */
package dev.proxymanager.middleware.store.redis;
