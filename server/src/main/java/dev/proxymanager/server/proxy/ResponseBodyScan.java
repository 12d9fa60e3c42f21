package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.BanBodyPattern;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;

/**
 * Reads the start of a streamed upstream response — at most {@link BanBodyPattern#SCAN_LIMIT} bytes — so the
 * outcome classifier can look for {@code ban_body_pattern} before the response is relayed, and puts it back in
 * front of the rest, so the client still gets the whole body as it came. Only the prefix is buffered.
 */
final class ResponseBodyScan {

    private ResponseBodyScan() {
    }

    /**
     * The body's first bytes ({@code null} when there is no body); {@code response}'s entity is replaced by one
     * replaying them before the unread rest.
     *
     * @throws IOException if reading the body fails
     */
    static ByteBuffer prefix(ClassicHttpResponse response) throws IOException {
        HttpEntity entity = response.getEntity();
        if (entity == null) {
            return null;
        }
        InputStream in = entity.getContent();
        byte[] prefix = in.readNBytes(BanBodyPattern.SCAN_LIMIT);
        ContentType type = entity.getContentType() == null ? null : ContentType.parseLenient(entity.getContentType());
        response.setEntity(new InputStreamEntity(new SequenceInputStream(new ByteArrayInputStream(prefix), in),
                entity.getContentLength(), type, entity.getContentEncoding()));
        return ByteBuffer.wrap(prefix);
    }
}
