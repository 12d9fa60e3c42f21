package dev.proxymanager.middleware.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProxyAddressTest {

    @Test
    void parsesHostPortAndCredentials() {
        // when
        ProxyAddress p = ProxyAddress.parse("http://scraper:p%40ss-word@10.0.0.7:3128");

        // then
        assertThat(p.host().getHostName()).isEqualTo("10.0.0.7");
        assertThat(p.host().getPort()).isEqualTo(3128);
        assertThat(p.user()).isEqualTo("scraper");
        assertThat(p.password()).isEqualTo("p@ss-word");
        assertThat(p.hasCredentials()).isTrue();
    }

    @Test
    void aBareHostPortIsAnHttpProxyWithoutCredentials() {
        // when
        ProxyAddress p = ProxyAddress.parse("127.0.0.1:8888");

        // then
        assertThat(p.host().toURI()).isEqualTo("http://127.0.0.1:8888");
        assertThat(p.hasCredentials()).isFalse();
    }

    @Test
    void toStringNeverShowsThePassword() {
        assertThat(ProxyAddress.parse("http://user:very-secret-password@proxy.example:8080").toString())
                .doesNotContain("very-secret-password");
    }

    @Test
    void anUnsupportedSchemeIsRejectedWithTheValueMasked() {
        assertThatThrownBy(() -> ProxyAddress.parse("socks5://user:hunter2-password@proxy.example:1080"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http://host:port")
                .hasMessageNotContaining("hunter2-password");
    }
}
