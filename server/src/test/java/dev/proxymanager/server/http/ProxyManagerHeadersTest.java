package dev.proxymanager.server.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyManagerHeadersTest {

    @Test
    void plainAsciiIdsAreWrittenAsTheyAre() {
        assertThat(ProxyManagerHeaders.secretId("key-1#3f9a0c5e12b7")).isEqualTo("key-1#3f9a0c5e12b7");
    }

    @Test
    void maskedIdsBecomeVisibleAsciiAndStayDistinct() {
        String a = ProxyManagerHeaders.secretId("http://…@gw.example.net:22225#3f9a0c5e12b7");
        String b = ProxyManagerHeaders.secretId("http://…@gw.example.net:22225#0c5e12b73f9a");

        assertThat(a).isEqualTo("http://%E2%80%A6@gw.example.net:22225#3f9a0c5e12b7").matches("[\\x21-\\x7e]+");
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void spacesControlsAndPercentSignsAreEncoded() {
        assertThat(ProxyManagerHeaders.secretId("a b\r\n%")).isEqualTo("a%20b%0D%0A%25");
    }
}
