package dev.proxymanager.middleware.transport;

import java.io.IOException;
import java.util.Locale;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpRequestInterceptor;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.net.URIAuthority;

/**
 * Applies {@link ConnectGuard#refusesOrigin} to every request HttpClient sends for an exchange, redirects included,
 * before the key is put on it.
 */
final class OriginGuardInterceptor implements HttpRequestInterceptor {

    private final ConnectGuard guard;

    OriginGuardInterceptor(ConnectGuard guard) {
        this.guard = guard;
    }

    @Override
    public void process(HttpRequest request, EntityDetails entity, HttpContext context) throws IOException {
        if (!(context.getAttribute(SecretContext.ATTRIBUTE) instanceof SecretContext secret)) {
            return;
        }
        URIAuthority authority = request.getAuthority();
        String scheme = request.getScheme() == null ? "http" : request.getScheme().toLowerCase(Locale.ROOT);
        if (authority == null) {
            throw new ForbiddenTargetException("request without a target host");
        }
        int port = authority.getPort() >= 0 ? authority.getPort() : scheme.equals("https") ? 443 : 80;
        String refusal = guard.refusesOrigin(secret.endpoint(), scheme, authority.getHostName(), port);
        if (refusal != null) {
            throw new ForbiddenTargetException(refusal);
        }
    }
}
