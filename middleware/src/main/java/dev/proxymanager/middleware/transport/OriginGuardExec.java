package dev.proxymanager.middleware.transport;

import java.io.IOException;
import java.util.Locale;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHost;

/**
 * Applies {@link ConnectGuard#refusesOrigin} to the target of every request HttpClient sends for an exchange,
 * redirects included. It sits before the connect step of the exec chain, so a refused origin is not even connected to
 * (request interceptors run after the connection is open).
 */
final class OriginGuardExec implements ExecChainHandler {

    /** Its name in the exec chain. */
    static final String NAME = "proxy-manager-origin-guard";

    private final ConnectGuard guard;

    OriginGuardExec(ConnectGuard guard) {
        this.guard = guard;
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
            throws IOException, HttpException {
        if (scope.clientContext.getAttribute(SecretContext.ATTRIBUTE) instanceof SecretContext secret) {
            HttpHost target = scope.route.getTargetHost();
            String scheme = target.getSchemeName() == null ? "http" : target.getSchemeName().toLowerCase(Locale.ROOT);
            int port = target.getPort() >= 0 ? target.getPort() : scheme.equals("https") ? 443 : 80;
            String refusal = guard.refusesOrigin(secret.endpoint(), scheme, target.getHostName(), port);
            if (refusal != null) {
                throw new ForbiddenTargetException(refusal);
            }
        }
        return chain.proceed(request, scope);
    }
}
