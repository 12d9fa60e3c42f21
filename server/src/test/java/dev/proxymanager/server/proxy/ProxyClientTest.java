package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyClientTest {

    private static final String TOKEN = "proxy-token-0123456789";

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static ProxyClient client(List<CidrBlock> trusted) {
        return new ProxyClient(new ForwardProxySettings(0, TOKEN, trusted, trusted.isEmpty() ? null : "pool",
                Duration.ofMinutes(10)));
    }

    @Test
    void userNameNamesEndpointAndOptionalSession() throws Exception {
        ProxyClient c = client(List.of());
        InetAddress remote = InetAddress.getByName("203.0.113.9");
        assertThat(c.identify(basic("pool", TOKEN), remote)).isEqualTo(new ProxyClient.Known("pool", null));
        assertThat(c.identify(basic("pool,session=abc", TOKEN), remote)).isEqualTo(new ProxyClient.Known("pool", "abc"));
    }

    @Test
    void missingWrongOrMalformedCredentialsAreUnknownWithoutEchoingTheToken() throws Exception {
        ProxyClient c = client(List.of());
        InetAddress remote = InetAddress.getByName("203.0.113.9");
        assertThat(c.identify(null, remote)).isInstanceOf(ProxyClient.Unknown.class);
        assertThat(c.identify(basic("pool", "wrong-token-0123456789"), remote)).isInstanceOf(ProxyClient.Unknown.class);
        assertThat(c.identify(basic("pool,sess=abc", TOKEN), remote)).isInstanceOf(ProxyClient.Unknown.class);
        assertThat(c.identify("Bearer " + TOKEN, remote)).isInstanceOfSatisfying(ProxyClient.Unknown.class,
                u -> assertThat(u.reason()).doesNotContain(TOKEN));
        assertThat(c.identify("Basic !!!", remote)).isInstanceOf(ProxyClient.Unknown.class);
    }

    @Test
    void trustedClientWithoutCredentialsUsesDefaultEndpointOthersDoNot() throws Exception {
        ProxyClient c = client(List.of(CidrBlock.parse("127.0.0.0/8")));
        assertThat(c.identify(null, InetAddress.getByName("127.0.0.1"))).isEqualTo(new ProxyClient.Known("pool", null));
        assertThat(c.identify(null, InetAddress.getByName("198.51.100.7"))).isInstanceOf(ProxyClient.Unknown.class);
    }
}
