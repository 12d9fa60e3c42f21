package dev.proxymanager.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Jetty's answers before (or outside) our routes — a CR or NUL in a header, an ambiguous path, oversized headers, a
 * bad request line, a request during shutdown — in the routes' JSON shape {@code {"error","message"}} instead of an
 * HTML page. The message is ours, per status, plus Jetty's reason only when it is a plain phrase ("Bad EOL"), so no
 * byte of the request (a key in a header) is ever echoed. Threadsafe.
 */
public final class JsonErrorHandler extends ErrorHandler {

    /** Jetty's reasons are fixed phrases; anything else (a value, a buffer dump) is not shown. */
    private static final Pattern PLAIN_PHRASE = Pattern.compile("[A-Za-z][A-Za-z -]{0,59}");

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = request.getAttribute(ERROR_STATUS) instanceof Integer s ? s : 500;
        String reason = request.getAttribute(ERROR_MESSAGE) instanceof String m ? m : null;
        HttpExchange.error(response, callback, status, code(status), message(status, reason));
        return true;
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        // a message Jetty could not even parse into a request
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        fields.put(HttpHeader.CACHE_CONTROL, "no-store");
        return ByteBuffer.wrap(body(status, reason));
    }

    static byte[] body(int status, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code(status));
        body.put("message", message(status, reason));
        try {
            return HttpExchange.JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of two strings is always JSON", e);
        }
    }

    private static String code(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 413 -> "request_too_large";
            case 414 -> "uri_too_long";
            case 431 -> "headers_too_large";
            case 501 -> "not_implemented";
            case 503 -> "unavailable";
            case 505 -> "http_version_not_supported";
            default -> status >= 500 ? "server_error" : "bad_request";
        };
    }

    private static String message(int status, String reason) {
        String base = switch (status) {
            case 400 -> "the request is not valid HTTP/1.1 (RFC 9110/9112)";
            case 404 -> "no such route";
            case 408 -> "the request did not arrive in time";
            case 413 -> "the request body is too large";
            case 414 -> "the request line is too long";
            case 431 -> "the request headers are too large";
            case 503 -> "the server is shutting down or overloaded; retry later";
            case 505 -> "only HTTP/1.1 and HTTP/1.0 are served";
            default -> status >= 500 ? "the server failed to answer" : "the request was refused";
        };
        return reason != null && PLAIN_PHRASE.matcher(reason).matches() ? base + ": " + reason : base;
    }
}
