package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.EndpointConfig;
import java.net.InetAddress;

/**
 * Decides, inside HttpClient, where an exchange may go: {@link #refusesOrigin} for every request it sends (redirects
 * included) and {@link #refusesAddress} for every address it is about to connect to (after its own DNS lookup, so a
 * name whose answer changes between a check and the connection — DNS rebinding — cannot pass). A refusal makes the
 * exchange fail with {@link ForbiddenTargetException} before any byte is sent. Implementations must be threadsafe.
 */
public interface ConnectGuard {

    /** Allows everything: the library's default, where the caller chose the target itself. */
    ConnectGuard ALLOW_ALL = new ConnectGuard() {
        @Override
        public String refusesOrigin(EndpointConfig endpoint, String scheme, String host, int port) {
            return null;
        }

        @Override
        public String refusesAddress(String host, InetAddress address) {
            return null;
        }
    };

    /**
     * Why {@code endpoint}'s exchange may not send a request to {@code scheme://host:port}.
     *
     * @param port the port, the scheme's default made explicit
     * @return {@code null} when it may, else a sentence naming the origin (never a secret)
     */
    String refusesOrigin(EndpointConfig endpoint, String scheme, String host, int port);

    /**
     * Why HttpClient may not connect to {@code address}, which {@code host} resolved to (a target, or a proxy).
     *
     * @return {@code null} when it may, else a sentence naming the host and address
     */
    String refusesAddress(String host, InetAddress address);
}
