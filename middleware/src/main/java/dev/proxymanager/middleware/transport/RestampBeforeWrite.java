package dev.proxymanager.middleware.transport;

import java.io.IOException;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;

/**
 * Runs the exchange's {@link UseRestamp} after the connection is set up and right before the request is written
 * (placed just ahead of HttpClient's main transport), so connection set-up and pool waits count as waiting.
 */
final class RestampBeforeWrite implements ExecChainHandler {

    /** The context attribute holding the exchange's {@link UseRestamp}. */
    static final String ATTRIBUTE = "dev.proxymanager.restamp";

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
            throws IOException, HttpException {
        if (scope.clientContext.getAttribute(ATTRIBUTE) instanceof UseRestamp restamp) {
            restamp.beforeWrite();
        }
        return chain.proceed(request, scope);
    }
}
