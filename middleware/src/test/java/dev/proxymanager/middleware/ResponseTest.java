package dev.proxymanager.middleware;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResponseTest {

    private static Response response(byte[] body, String contentType) {
        return new Response(200, dev.proxymanager.middleware.http.HttpHeaders.builder().add("Content-Type", contentType).build(),
                ByteBuffer.wrap(body), false, "k", 1, dev.proxymanager.middleware.health.OutcomeKind.SUCCESS);
    }

    @Test
    void bodyBufferIsAReadOnlyViewThatEveryReaderGetsFromTheStart() {
        Response r = response("hello".getBytes(StandardCharsets.UTF_8), "text/plain");

        ByteBuffer first = r.bodyBuffer();
        first.get(new byte[3]); // one reader consuming its view does not move another's
        ByteBuffer second = r.bodyBuffer();

        assertThat(second.remaining()).isEqualTo(5);
        assertThat(first.isReadOnly()).isTrue();
        assertThatThrownBy(() -> second.put(0, (byte) 'j')).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(r.bodyAsString()).isEqualTo("hello");
    }

    @Test
    void bodyIsACopyTheCallerMayChange() {
        Response r = response("hello".getBytes(StandardCharsets.UTF_8), "text/plain");

        byte[] copy = r.body();
        copy[0] = 'j';

        assertThat(r.body()).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        assertThat(r.toString()).contains("bytes=5");
    }

    @Test
    void bodyAsStringUsesTheDeclaredCharset() {
        Response r = response("café".getBytes(StandardCharsets.ISO_8859_1), "text/plain; charset=ISO-8859-1");

        assertThat(r.bodyAsString()).isEqualTo("café");
    }
}
