package dev.proxymanager.server.proxy;

import java.io.IOException;

/** The upstream proxy answered {@code CONNECT} with something other than 2xx. */
public final class UpstreamConnectException extends IOException {

    private final int status;

    public UpstreamConnectException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The upstream's status, e.g. 407, 403 or 503. */
    public int status() {
        return status;
    }
}
