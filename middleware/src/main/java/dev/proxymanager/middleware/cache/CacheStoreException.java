package dev.proxymanager.middleware.cache;

/** A {@link CacheStore}'s backend failed (unreachable, rejected the request). The cache treats it as a miss. */
public class CacheStoreException extends RuntimeException {
    public CacheStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public CacheStoreException(String message) {
        super(message);
    }
}
