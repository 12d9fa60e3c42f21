package dev.proxymanager.server.http;

import dev.proxymanager.server.security.BearerTokenAuth;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

import java.util.List;

/**
 * Decides whether a request carries the admin token: {@code Authorization: Bearer <token>}, or (for pages opened in a
 * browser, such as the dashboard) the {@value #COOKIE} cookie the server sets after a {@code ?token=} visit.
 * Threadsafe.
 */
final class AdminGate {

    /** The cookie holding the admin token for browser pages; HttpOnly, SameSite=Strict. */
    static final String COOKIE = "proxy_manager_admin";

    private final BearerTokenAuth auth;

    AdminGate(BearerTokenAuth auth) {
        this.auth = auth;
    }

    boolean permits(Request request) {
        if (auth.permits(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
            return true;
        }
        List<HttpCookie> cookies = Request.getCookies(request);
        if (cookies != null) {
            for (HttpCookie c : cookies) {
                if (COOKIE.equals(c.getName()) && auth.permits("Bearer " + c.getValue())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the Authorization header of this request is the admin token (so it must not go upstream). */
    boolean authorizationIsAdminToken(Request request) {
        return auth.permits(request.getHeaders().get(HttpHeader.AUTHORIZATION));
    }

    boolean permitsToken(String token) {
        return token != null && auth.permits("Bearer " + token);
    }

    boolean configured() {
        return auth.configured();
    }
}
