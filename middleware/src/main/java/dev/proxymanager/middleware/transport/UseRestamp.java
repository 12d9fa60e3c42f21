package dev.proxymanager.middleware.transport;

import java.io.IOException;

/**
 * What the transport calls just before it writes an exchange's request (after the connection is set up, on every
 * attempt HttpClient makes): the place to move the lease's recorded use to the time it is really sent
 * ({@code RotationEngine.restampUse}).
 */
@FunctionalInterface
public interface UseRestamp {

    /**
     * Returns when the request may be written; may wait.
     *
     * @throws IOException when it may not be written (the exchange fails with it)
     */
    void beforeWrite() throws IOException;
}
