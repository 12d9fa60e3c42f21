package dev.proxymanager.middleware.cache;

import java.io.IOException;

/** The real call the cache stands in front of: sends the request and reads the whole response. */
@FunctionalInterface
public interface Upstream {
    /**
     * @return the upstream's response (without times)
     * @throws IOException if the upstream could not be reached or the response could not be read
     */
    CachedResponse call() throws IOException;
}
