package dev.proxymanager.middleware.elastic;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JoinedBodyTransportTest {

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    @Test
    void severalBuffersBecomeOneWithTheSameBytesInOrderAndTheSourcesAreNotConsumed() {
        // given a bulk-like body whose newline buffer is one shared instance, as the client builds it
        ByteBuffer newline = utf8("\n");
        List<ByteBuffer> body = List.of(utf8("{\"create\":{}}"), newline, utf8("{\"n\":1}"), newline);

        // when joined
        Iterable<ByteBuffer> joined = JoinedBodyTransport.joined(body);

        // then one buffer carries it all, and the shared separator can still be read by the next request
        assertThat(joined).hasSize(1);
        assertThat(text(joined.iterator().next())).isEqualTo("{\"create\":{}}\n{\"n\":1}\n");
        assertThat(newline.remaining()).isEqualTo(1);
    }

    @Test
    void aBodyOfOneBufferOrNoneIsPassedOnAsItIs() {
        List<ByteBuffer> one = List.of(utf8("{\"query\":{}}"));
        List<ByteBuffer> none = List.of();

        assertThat(JoinedBodyTransport.joined(one)).isSameAs(one);
        assertThat(JoinedBodyTransport.joined(none)).isSameAs(none);
        assertThat(JoinedBodyTransport.joined(null)).isNull();
    }
}
