package dev.proxymanager.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small helpers shared by the routes: JSON answers, errors as JSON, bounded body reads. Threadsafe (stateless). */
final class HttpExchange {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final byte[] EMPTY = new byte[0];

    private HttpExchange() {
    }

    /** Answers {@code status} with {@code body} as JSON. */
    static void json(Response response, Callback callback, int status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            callback.failed(e);
            return;
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /** Answers {@code status} with {@code {"error": ..., "message": ...}}; the message must hold no secret. */
    static void error(Response response, Callback callback, int status, String error, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("message", message);
        json(response, callback, status, body);
    }

    /** As {@link #error} with a {@code Retry-After} header (whole seconds, at least 1). */
    static void errorRetryAfter(Response response, Callback callback, int status, String error, String message,
                                Duration retryAfter) {
        long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
        response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(seconds));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("message", message);
        body.put("retry_after_seconds", seconds);
        json(response, callback, status, body);
    }

    /** Answers plain text. */
    static void text(Response response, Callback callback, int status, String contentType, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    }

    /** Thrown by {@link #readBody} when the body exceeds the limit. */
    static final class BodyTooLargeException extends IOException {
        BodyTooLargeException(long limit) {
            super("request body is larger than max_request_bytes (" + limit + " bytes)");
        }
    }

    /**
     * Reads the request body, refusing more than {@code limit} bytes.
     *
     * @throws BodyTooLargeException when the declared or actual length exceeds the limit
     */
    static byte[] readBody(Request request, long limit) throws IOException {
        long declared = request.getLength();
        if (declared > limit) {
            throw new BodyTooLargeException(limit);
        }
        if (declared == 0 || (declared < 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
            // HTTP/1.1 without Content-Length or Transfer-Encoding has no body: skip the stream and its buffers
            return EMPTY;
        }
        if (declared > 0 && declared <= Integer.MAX_VALUE - 8) {
            return readExactly(request, (int) declared);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] buf = new byte[8192];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > limit) {
                    throw new BodyTooLargeException(limit);
                }
                out.write(buf, 0, n);
            }
        }
        return out.toByteArray();
    }

    /** A body of known length read straight into one array of that length: held once, no growing or trimming copy. */
    private static byte[] readExactly(Request request, int length) throws IOException {
        byte[] body = new byte[length];
        try (InputStream in = Content.Source.asInputStream(request)) {
            int n = in.readNBytes(body, 0, length);
            if (n < length) {
                throw new java.io.EOFException("request body ended after " + n + " of " + length + " bytes");
            }
        }
        return body;
    }
}
