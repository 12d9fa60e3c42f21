/**
 * Extension points the backend modules implement, found through {@link java.util.ServiceLoader}:
 * {@link dev.proxymanager.middleware.spi.UsageStoreProvider} ({@code usage_store.type} in secrets.json, e.g.
 * {@code redis} in {@code proxy-manager-middleware-redis}) and
 * {@link dev.proxymanager.middleware.spi.CacheAndLogBackendProvider} (the response cache and request log, e.g.
 * Elasticsearch in {@code proxy-manager-middleware-elasticsearch}). {@link dev.proxymanager.middleware.spi.Backends}
 * loads them and names the missing artifact when one is absent.
 */
package dev.proxymanager.middleware.spi;
