package dev.proxymanager.middleware.transport;

import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Routes an exchange through the proxy chosen for it, or directly when it has none. HttpClient then pools
 * connections per route, so connections through one proxy are reused for that proxy only; HTTPS targets go
 * through a CONNECT tunnel.
 */
final class SecretRoutePlanner extends DefaultRoutePlanner {

    SecretRoutePlanner() {
        super(DefaultSchemePortResolver.INSTANCE);
    }

    @Override
    protected HttpHost determineProxy(HttpHost target, HttpContext context) {
        if (context.getAttribute(SecretContext.ATTRIBUTE) instanceof SecretContext secret && secret.proxy() != null) {
            return secret.proxy().host();
        }
        return null;
    }
}
