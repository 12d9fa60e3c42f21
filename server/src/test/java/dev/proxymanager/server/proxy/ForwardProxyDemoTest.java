package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.ServerApplication;
import dev.proxymanager.server.config.ServerConfig;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardProxyDemoTest {

    @Test
    void embeddedDemoRunsTheProxyPortAndItsPrintedCurlLineWorksAsPrinted() throws Exception {
        // given the embedded demo (no secrets file), without Elasticsearch
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withElasticsearchEnabled(false)
                .build();
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
            // when the printed proxy-port curl line is run as it is
            String line = app.banner().lines().filter(l -> l.strip().startsWith("curl -i -x"))
                    .findFirst().orElseThrow().strip();
            String[] args = Arrays.copyOfRange(line.split(" "), 2, 5);
            Curl r = Curl.run(args);

            // then the demo site answers through one of the demo proxies
            assertThat(app.forwardProxy()).isNotNull();
            assertThat(line).contains("demo-search:" + app.forwardProxySettings().token() + "@127.0.0.1:"
                    + app.forwardProxy().port());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Proxy-Manager-Secret")).isNotBlank();
            assertThat(r.body()).contains("/demo-search/items/42");
        }
    }
}
