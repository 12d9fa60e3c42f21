package dev.proxymanager.middleware.transport;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpRequestInterceptor;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.net.URIAuthority;
import org.apache.hc.core5.net.URIBuilder;

/**
 * Puts the exchange's API key where the endpoint expects it — a header with its format, or a query parameter —
 * on every request HttpClient sends for the exchange, redirects included, but only to the endpoint's allowed hosts.
 */
final class KeyInjectionInterceptor implements HttpRequestInterceptor {

    @Override
    public void process(HttpRequest request, EntityDetails entity, HttpContext context)
            throws HttpException, IOException {
        if (!(context.getAttribute(SecretContext.ATTRIBUTE) instanceof SecretContext secret) || secret.key() == null) {
            return;
        }
        // the host as the request carries it: rebuilding the URI for it cost a parse per exchange
        URIAuthority authority = request.getAuthority();
        if (authority == null || !secret.keyAllowedFor(authority.getHostName())) {
            return;
        }
        if (secret.placement().inHeader()) {
            request.setHeader(secret.placement().header(), secret.placement().headerValue(secret.key()));
            return;
        }
        URI uri;
        try {
            uri = request.getUri();
        } catch (URISyntaxException e) {
            throw new ProtocolException("request URI is not valid: " + e.getMessage(), e);
        }
        try {
            request.setUri(new URIBuilder(uri).setParameter(secret.placement().queryParameter(), secret.key()).build());
        } catch (URISyntaxException e) {
            throw new ProtocolException("cannot add the key parameter to the request URI", e);
        }
    }
}
