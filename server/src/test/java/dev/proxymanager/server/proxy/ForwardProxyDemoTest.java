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

    @Test
    void theDemosPrintedHttpsLineWorksAsPrintedThroughADemoProxyTunnel() throws Exception {
        // given the embedded demo, whose site also listens on HTTPS (self-signed) and whose proxies speak CONNECT
        ServerConfig config = ServerConfig.builder().withHost("127.0.0.1").withPort(0).withElasticsearchEnabled(false)
                .build();
        try (ServerApplication app = new ServerApplication(config, Map.of(), Clock.system()).start()) {
            // when the printed HTTPS line is run as it is
            String line = app.banner().lines().filter(l -> l.strip().startsWith("curl -k -i -x"))
                    .findFirst().orElseThrow().strip();
            String[] args = Arrays.copyOfRange(line.split(" +"), 1, 6);
            Curl r = Curl.run(args);

            // then the HTTPS site answers through a tunnel opened by one of the demo proxies
            assertThat(line).contains("https://127.0.0.1:");
            assertThat(r.connectStatus()).isEqualTo(200);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("/demo-search/items/42").contains("\"served_to\":\"tunnel\"");
        }
    }
}
