package dev.proxymanager.server;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.server.config.ServerConfig;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;
import dev.proxymanager.server.loadtest.LoadTestCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import dev.proxymanager.server.proxy.ForwardProxySettings;
import dev.proxymanager.server.proxy.ForwardProxySettingsLoader;
import dev.proxymanager.server.proxy.tls.CaCommand;
import dev.proxymanager.server.proxy.tls.TlsInterceptionSettings;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar proxy-manager-server.jar [--config server.yaml] [flags]} starts the forwarding server; without a
 * config it runs the embedded default (local Elasticsearch, demo upstream, examples/secrets.json).
 * {@code ... loadtest --url ...} runs the load tester. Flags override the config file; see docs/server.md.
 */
@Command(name = "proxy-manager-server", mixinStandardHelpOptions = true, version = "Proxy Manager 0.1.0",
        subcommands = {LoadTestCommand.class, CaCommand.class},
        description = "The Proxy Manager forwarding server: rotates API keys and proxies under their limits.")
public final class Main implements Callable<Integer> {

    @Option(names = "--config", description = "server.yaml (or .json). Without it: the embedded demo.")
    Path config;
    @Option(names = "--port", description = "Listen port (default 8080).")
    String port;
    @Option(names = "--host", description = "Listen address (default 0.0.0.0).")
    String host;
    @Option(names = "--secrets-file", description = "secrets.json to load.")
    String secretsFile;
    @Option(names = "--elasticsearch-url", description = "Elasticsearch URL (else ELASTICSEARCH_URL, else the local node).")
    String elasticsearchUrl;
    @Option(names = "--read-timeout", description = "Read timeout, e.g. 60s (max 300s).")
    String readTimeout;
    @Option(names = "--connect-timeout", description = "Connect timeout, e.g. 10s.")
    String connectTimeout;
    @Option(names = "--max-concurrent-requests", description = "Upstream requests in flight (default 200).")
    String maxConcurrentRequests;
    @Option(names = "--max-queue-size", description = "Requests waiting for a slot before 503 (default 500).")
    String maxQueueSize;
    @Option(names = "--pool-maxsize", description = "Pooled upstream connections (default 2 x max concurrent, >= 64).")
    String poolMaxSize;
    @Option(names = "--circuit-breaker-threshold", description = "Consecutive failures that open a breaker (default 5).")
    String circuitBreakerThreshold;
    @Option(names = "--retries", description = "Retries on another secret (overrides the endpoints').")
    String retries;
    @Option(names = "--drain-timeout", description = "Shutdown grace period (default 30s).")
    String drainTimeout;
    @Option(names = "--admin-token-file", description = "File holding the admin Bearer token.")
    String adminTokenFile;
    @Option(names = "--forwarding-token-file", description = "File holding the forwarding Bearer token (forwarding only).")
    String forwardingTokenFile;
    @Option(names = "--protect-forwarding", arity = "0..1", description = "Require the forwarding (or admin) token on "
            + "/proxy and /api/v1/send; default true outside the demo; --protect-forwarding=false forwards for anyone.")
    Boolean protectForwarding;
    @Option(names = "--max-request-bytes", description = "Largest request body (default 10485760).")
    String maxRequestBytes;
    @Option(names = "--max-response-bytes", description = "Largest response body (default 104857600).")
    String maxResponseBytes;
    @Option(names = "--proxy-port", description = "Port of the forward-proxy listener (off unless set; on in the demo).")
    String proxyPort;

    @Override
    public Integer call() throws Exception {
        ServerConfig cfg;
        ForwardProxySettings proxySettings;
        TlsInterceptionSettings tlsSettings;
        try {
            cfg = ServerConfigLoader.load(config, System.getenv(), overrides());
            proxySettings = ForwardProxySettingsLoader.load(config, System.getenv(), proxyPort);
            tlsSettings = TlsInterceptionSettings.load(config);
        } catch (ServerConfigException e) {
            System.err.println("configuration error: " + e.getMessage());
            return 2;
        }
        ServerApplication app = new ServerApplication(cfg, System.getenv(), Clock.system())
                .withForwardProxy(proxySettings, tlsSettings);
        try {
            app.start();
        } catch (ServerConfigException e) {
            System.err.println("configuration error: " + e.getMessage());
            app.close();
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("proxy-manager-shutdown").unstarted(() -> {
            app.close();
            stopped.countDown();
        }));
        System.out.println(app.banner());
        stopped.await();
        return 0;
    }

    private Map<String, String> overrides() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("port", port);
        o.put("host", host);
        o.put("secrets_file", secretsFile);
        o.put("elasticsearch_url", elasticsearchUrl);
        o.put("read_timeout", readTimeout);
        o.put("connect_timeout", connectTimeout);
        o.put("max_concurrent_requests", maxConcurrentRequests);
        o.put("max_queue_size", maxQueueSize);
        o.put("pool_max_size", poolMaxSize);
        o.put("circuit_breaker_threshold", circuitBreakerThreshold);
        o.put("retries", retries);
        o.put("drain_timeout", drainTimeout);
        o.put("admin_token_file", adminTokenFile);
        o.put("forwarding_token_file", forwardingTokenFile);
        o.put("protect_forwarding", protectForwarding == null ? null : protectForwarding.toString());
        o.put("max_request_bytes", maxRequestBytes);
        o.put("max_response_bytes", maxResponseBytes);
        return o;
    }

    /** Entry point. */
    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
