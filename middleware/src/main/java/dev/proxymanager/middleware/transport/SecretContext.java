package dev.proxymanager.middleware.transport;

import dev.proxymanager.middleware.config.KeyPlacement;
import java.util.List;
import java.util.Locale;

/**
 * What one exchange applies, carried in the HttpClient context for {@link KeyInjectionInterceptor} and
 * {@link SecretRoutePlanner}. Exactly one of {@code key} and {@code proxy} is set.
 */
record SecretContext(KeyPlacement placement, String key, List<String> allowedHosts, ProxyAddress proxy) {

    /** The context attribute holding this. */
    static final String ATTRIBUTE = "dev.proxymanager.secret";

    /** A key goes only to the endpoint's hosts, so a redirect elsewhere never carries it. */
    boolean keyAllowedFor(String host) {
        if (key == null || host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        for (String allowed : allowedHosts) {
            if (allowed.equalsIgnoreCase(h)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "SecretContext[placement=" + placement + ", proxy=" + proxy + "]";
    }
}
