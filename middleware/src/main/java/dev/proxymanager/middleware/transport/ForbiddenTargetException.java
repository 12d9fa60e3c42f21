package dev.proxymanager.middleware.transport;

import java.net.UnknownHostException;

/**
 * A {@link ConnectGuard} refused the exchange's origin or the address its host resolved to; nothing was sent. It is an
 * {@link UnknownHostException} because HttpClient's {@code DnsResolver} may throw only that; callers tell it apart by
 * type: the target was the caller's choice, so the refusal says nothing about the secret that was applied.
 */
public final class ForbiddenTargetException extends UnknownHostException {

    public ForbiddenTargetException(String message) {
        super(message);
    }
}
