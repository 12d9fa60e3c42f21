package dev.proxymanager.server.proxy;

import dev.proxymanager.testsupport.proxy.Tinyproxy;
import dev.proxymanager.testsupport.redis.RedisTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two server processes (real JVMs started from {@link dev.proxymanager.server.Main}) behind one proxy token, sharing
 * one real redis-server, over two real tinyproxy upstreams: what one replica decides, the other sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForwardProxyReplicasTest {

    private static final String TOKEN = "replicas-token-0123456789";

    @TempDir
    static Path dir;
    private RedisTestServer redis;
    private TestSite site;
    private Tinyproxy proxyA;
    private Tinyproxy proxyB;
    private final List<Process> replicas = new ArrayList<>();
    private final int[] proxyPorts = new int[2];

    @BeforeAll
    void startReplicas() throws Exception {
        redis = RedisTestServer.dedicated();
        site = new TestSite(dir);
        proxyA = Tinyproxy.start("pm-a");
        proxyB = Tinyproxy.start("pm-b");
        // "pool": a dead proxy comes back after at most a second; "sited": two requests a minute per proxy per site
        String secrets = "[ { \"id\": \"pm-a\", \"value\": \"" + proxyA.url() + "\" }, { \"id\": \"pm-b\","
                + " \"value\": \"" + proxyB.url() + "\" } ]";
        Files.writeString(dir.resolve("secrets.json"), """
                { "usage_store": { "type": "redis", "uri": "%s" },
                  "endpoints": {
                    "pool": {
                      "type": "proxy", "rotation": "round-robin", "allowed_targets": ["127.0.0.1"],
                      "retry": { "max_retries": 1 }, "timeouts": { "connect": "2s", "read": "10s" },
                      "health": { "backoff_base": "1s", "backoff_max": "1s" },
                      "secrets": %s },
                    "sited": {
                      "type": "proxy", "rotation": "round-robin", "allowed_targets": ["127.0.0.1"],
                      "limits": [ { "requests": 2, "per": "1m", "scope": "host" } ],
                      "secrets": %s } } }
                """.formatted(redis.uri(), secrets, secrets));
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int i = 0; i < 2; i++) {
            proxyPorts[i] = freePort();
            Path yaml = Files.writeString(dir.resolve("server-" + i + ".yaml"), """
                    host: 127.0.0.1
                    port: %d
                    proxy_port: %d
                    secrets_file: secrets.json
                    elasticsearch: false
                    # only the proxy port is used here, with its own token
                    protect_forwarding: false
                    """.formatted(freePort(), proxyPorts[i]));
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", classpath, "dev.proxymanager.server.Main",
                    "--config", yaml.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("replica-" + i + ".out").toFile());
            pb.environment().put("PROXY_MANAGER_PROXY_TOKEN", TOKEN);
            replicas.add(pb.start());
        }
        for (int i = 0; i < 2; i++) {
            int port = proxyPorts[i];
            Process p = replicas.get(i);
            Path out = dir.resolve("replica-" + i + ".out");
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!p.isAlive()) {
                    throw new IllegalStateException("replica exited: " + Files.readString(out));
                }
                return accepts(port);
            });
        }
    }

    @AfterAll
    void stopReplicas() throws Exception {
        for (Process p : replicas) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        proxyA.close();
        proxyB.close();
        site.close();
        redis.close();
    }

    @BeforeEach
    void clearSite() {
        site.requests.clear();
        site.answerByProxy.clear();
    }

    private String proxy(int replica, String user) {
        return "http://" + user + ":" + TOKEN + "@127.0.0.1:" + proxyPorts[replica];
    }

    /** The test site under {@code host}: 127.0.0.1 or a name for it (a distinct site for per-site state). */
    private String url(String host, String path) {
        return "http://" + host + ":" + site.httpPort() + path;
    }

    @Test
    void aSessionBegunOnOneReplicaContinuesOnTheSameUpstreamProxyThroughTheOther() throws Exception {
        // given four sessions begun on replica 0 (round robin spreads them over both proxies), after one request
        // without a session there, so its round robin is one step ahead of replica 1's
        assertThat(Curl.run("-x", proxy(0, "pool"), url("127.0.0.1", "/session")).status()).isEqualTo(200);
        Map<String, String> first = new java.util.HashMap<>();
        for (int s = 0; s < 4; s++) {
            Curl r = Curl.run("-x", proxy(0, "pool,session=s" + s), url("127.0.0.1", "/session?s=" + s));
            assertThat(r.status()).isEqualTo(200);
            first.put("s" + s, r.header("X-Proxy-Manager-Secret"));
        }
        assertThat(new HashSet<>(first.values())).containsExactlyInAnyOrder("pm-a", "pm-b");

        // when each continues through replica 1
        for (int s = 0; s < 4; s++) {
            Curl r = Curl.run("-x", proxy(1, "pool,session=s" + s), url("localhost", "/session?s=" + s));

            // then it is on the same upstream proxy, not moved
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo(first.get("s" + s));
            assertThat(r.header("X-Proxy-Manager-Session-Moved")).isNull();
        }
    }

    @Test
    void aPerSiteLimitHoldsAcrossBothReplicasCountedAtTheTarget() throws Exception {
        // given two proxies allowed two requests a minute each for this site: four in all, whichever replica asks
        String host = "localhost";
        int answered = 0;
        int refused = 0;

        // when six requests go to the site, alternating replicas
        for (int i = 0; i < 6; i++) {
            Curl r = Curl.run("-x", proxy(i % 2, "sited"), url(host, "/limited?i=" + i));
            if (r.status() == 200) {
                answered++;
            } else {
                assertThat(r.status()).isEqualTo(429);
                assertThat(r.header("X-Proxy-Manager-Error")).isEqualTo("no_proxy_available");
                refused++;
            }
        }

        // then the site saw exactly four
        assertThat(site.requests.stream().filter(h -> h.get(":path").startsWith("/limited")).count()).isEqualTo(4);
        assertThat(answered).isEqualTo(4);
        assertThat(refused).isEqualTo(2);
    }

    @Test
    void anUpstreamProxyKilledMidRunMovesTrafficAndRecoversWhenRestarted() throws Exception {
        // given both proxies serving (distinct sites per request keep the per-site limit out of the way)
        Set<String> before = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            before.add(Curl.run("-x", proxy(i % 2, "pool"), url("127.0.0.1", "/k?i=" + i + "&h=" + i))
                    .header("X-Proxy-Manager-Secret"));
        }

        // when pm-a is killed mid-run
        proxyA.stop();
        try {
            // then every request still succeeds, through pm-b
            for (int i = 0; i < 4; i++) {
                Curl r = Curl.run("-x", proxy(i % 2, "pool"), url("127.0.0.1", "/k2?i=" + i));
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("X-Proxy-Manager-Secret")).isEqualTo("pm-b");
            }
        } finally {
            // and when it is restarted, traffic comes back to it once its cooldown (1 s) is over
            proxyA.restart();
        }
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() ->
                "pm-a".equals(Curl.run("-x", proxy(0, "pool"), url("127.0.0.1", "/k3")).header("X-Proxy-Manager-Secret")));
        assertThat(before).containsExactlyInAnyOrder("pm-a", "pm-b");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
