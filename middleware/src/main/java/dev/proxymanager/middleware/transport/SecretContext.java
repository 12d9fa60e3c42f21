package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;

/**
 * What one exchange applies, carried in the HttpClient context for {@link KeyInjectionInterceptor} and
 * {@link SecretRoutePlanner}. Exactly one of {@code key} and {@code proxy} is set.
 */
record SecretContext(EndpointConfig endpoint, KeyPlacement placement, String key, ProxyAddress proxy) {

    /** The context attribute holding this. */
    static final String ATTRIBUTE = "dev.proxymanager.secret";

    /** A key goes only to the endpoint's hosts, so a redirect elsewhere never carries it. */
    boolean keyAllowedFor(String host) {
        if (key == null || host == null) {
            return false;
        }
        return endpoint.allowsHost(host);
    }

    @Override
    public String toString() {
        return "SecretContext[placement=" + placement + ", proxy=" + proxy + "]";
    }
}
