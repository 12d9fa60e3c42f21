package dev.proxymanager.server.http;

import dev.proxymanager.testsupport.proxy.Tinyproxy;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyRoutingTest {

    @Test
    void requestsToAProxyEndpointGoThroughRotatedRealProxiesWithCredentialsKeptSecret() throws Exception {
        // given two real tinyproxy processes, one asking for credentials, and an endpoint rotating over them
        try (TestUpstream upstream = new TestUpstream();
             Tinyproxy open = Tinyproxy.start("pm-open");
             Tinyproxy locked = Tinyproxy.start("pm-locked", "alice", "proxy-pass-1234")) {
            String json = "{\"endpoints\":{\"search\":{\"type\":\"proxy\",\"base_url\":\"" + upstream.url() + "\","
                    + "\"rotation\":\"round-robin\",\"limits\":[{\"requests\":100,\"per\":\"60s\"}],"
                    + "\"cache\":{\"enabled\":false},\"secrets\":["
                    + "{\"id\":\"proxy-open\",\"value\":\"" + open.url() + "\"},"
                    + "{\"id\":\"proxy-locked\",\"value\":\"" + locked.urlWithCredentials() + "\"}]}}}";
            try (ServerHarness harness = new ServerHarness(json, 10, 10, 3, false)) {
                // when four requests are forwarded
                Set<String> vias = new HashSet<>();
                Set<String> secrets = new HashSet<>();
                for (int i = 0; i < 4; i++) {
                    HttpResponse<String> r = harness.get("/proxy/search/q?i=" + i);
                    assertThat(r.statusCode()).isEqualTo(200);
                    vias.add(upstream.lastHeaders.getOrDefault("via", "none").replaceAll(".* (pm-[a-z]+) .*", "$1"));
                    secrets.add(r.headers().firstValue("X-Proxy-Manager-Secret").orElseThrow());
                    assertThat(r.headers().map().toString()).doesNotContain("proxy-pass-1234");
                }

                // then both proxies carried traffic, the upstream never saw proxy credentials, and ids are what shows
                assertThat(vias).containsExactlyInAnyOrder("pm-open", "pm-locked");
                assertThat(secrets).containsExactlyInAnyOrder("proxy-open", "proxy-locked");
                assertThat(upstream.lastHeaders).doesNotContainKey("proxy-authorization");
                assertThat(harness.get("/api/v1/proxies", "Authorization", "Bearer " + ServerHarness.ADMIN_TOKEN).body())
                        .contains("proxy-locked").doesNotContain("proxy-pass-1234");
            }
        }
    }
}
