package dev.proxymanager.server.http;

import dev.proxymanager.server.security.BearerTokenAuth;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * Who may do what, through {@link BearerTokenAuth}: the admin token (Bearer header, or the session cookie a browser
 * gets for a {@code ?token=} visit) opens the admin routes and forwarding; the forwarding token (Bearer header only)
 * opens forwarding and nothing else, so it cannot change settings. Threadsafe.
 */
final class AdminGate {

    private final BearerTokenAuth admin;
    private final BearerTokenAuth forwarding;

    AdminGate(BearerTokenAuth admin, BearerTokenAuth forwarding) {
        this.admin = admin;
        this.forwarding = forwarding;
    }

    /** Whether the request carries the admin token (header or session cookie). */
    boolean permits(Request request) {
        return admin.permits(request);
    }

    /** Whether the request's Authorization header carries the forwarding or the admin token. */
    boolean permitsForwarding(Request request) {
        return authorizationIsOurToken(request);
    }

    /** Whether the Authorization header of this request is one of our tokens (so it must not go upstream). */
    boolean authorizationIsOurToken(Request request) {
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        return header != null && (admin.permitsAuthorization(header) | forwarding.permitsAuthorization(header));
    }

    boolean permitsToken(String token) {
        return admin.permitsToken(token);
    }

    /** The admin session cookie's value, never the token. */
    String sessionCookieValue() {
        return admin.sessionCookieValue();
    }

    boolean configured() {
        return admin.configured();
    }
}
