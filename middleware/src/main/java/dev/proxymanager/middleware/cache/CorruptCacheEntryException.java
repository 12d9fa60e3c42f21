package dev.proxymanager.middleware.cache;

/**
 * A stored cache entry could not be read back (missing field, bad base64, unknown schema version). The cache
 * treats it as a miss, counts and logs it, and never serves it.
 */
public class CorruptCacheEntryException extends CacheStoreException {
    private final String id;

    public CorruptCacheEntryException(String id, String problem, Throwable cause) {
        super("cache entry " + id + " is unreadable: " + problem, cause);
        this.id = id;
    }

    /** The entry's document id. */
    public String id() {
        return id;
    }
}
