package dev.proxymanager.middleware.token;

/**
 * Fetches a fresh auxiliary token for a secret (e.g. a guest token obtained through a proxy). Called by
 * {@link AuxiliaryTokens} at most once at a time per secret. Implementations must be threadsafe.
 */
@FunctionalInterface
public interface TokenRefresher {

    /**
     * Returns a new token for {@code secretId}.
     *
     * @throws Exception when no token could be obtained; the caller sees it wrapped in {@link TokenRefreshException}
     */
    String refresh(String secretId) throws Exception;
}
