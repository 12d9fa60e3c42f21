package dev.proxymanager.server.demo;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.SecretsConfig;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedded default's fake world: one {@link DemoUpstream} for every endpoint of the demo secrets.json whose
 * base_url is on loopback, and one {@link DemoProxy} for every loopback proxy secret. The configuration is rewritten
 * to point at them (free ports, so nothing else on the machine is in the way); endpoints elsewhere are left alone.
 * Not threadsafe to start; {@link #close()} stops everything.
 */
public final class DemoEnvironment implements AutoCloseable {

    /** Where the shipped demo secrets.json sits inside the jar (copied from {@code examples/} by the build). */
    public static final String BUNDLED_SECRETS = "/dev/proxymanager/server/demo/secrets.json";

    private final DemoUpstream upstream;
    private final List<DemoProxy> proxies = new ArrayList<>();
    private final SecretsConfig config;

    private DemoEnvironment(DemoUpstream upstream, SecretsConfig config) {
        this.upstream = upstream;
        this.config = config;
    }

    /**
     * Reads the demo secrets.json: {@code examples/secrets.json} under the working directory when present, else the
     * copy bundled in the jar.
     *
     * @throws IllegalStateException when neither exists
     */
    public static SecretsConfig loadExample(Map<String, String> env) {
        Path local = Path.of("examples", "secrets.json");
        try {
            if (Files.isRegularFile(local)) {
                return SecretsConfig.parse(Files.readString(local, StandardCharsets.UTF_8), env);
            }
            try (InputStream in = DemoEnvironment.class.getResourceAsStream(BUNDLED_SECRETS)) {
                if (in == null) {
                    throw new IllegalStateException("the demo secrets.json is missing: neither " + local.toAbsolutePath()
                            + " nor the copy bundled in the jar exists; pass --config or --secrets-file");
                }
                return SecretsConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), env);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the demo secrets.json: " + e.getMessage(), e);
        }
    }

    /**
     * Starts the demo upstream (and proxies) for {@code example} and returns the environment with the rewritten config.
     *
     * @param upstreamPort the demo upstream's port (0 = free)
     * @param limitPerMinute calls per key or proxy the demo upstream allows per minute
     */
    public static DemoEnvironment start(SecretsConfig example, int upstreamPort, int limitPerMinute, Clock clock)
            throws Exception {
        DemoUpstream upstream = new DemoUpstream(upstreamPort, limitPerMinute, Duration.ofMinutes(1), clock).start();
        DemoEnvironment env = new DemoEnvironment(upstream, null);
        try {
            Map<String, EndpointConfig> endpoints = new LinkedHashMap<>();
            for (EndpointConfig e : example.endpoints().values()) {
                if (e.baseUrl() == null || !isLoopback(e.baseUrl().getHost())) {
                    endpoints.put(e.name(), e);
                    continue;
                }
                URI base = URI.create(upstream.url() + "/" + e.name());
                List<SecretConfig> secrets = new ArrayList<>();
                for (SecretConfig s : e.secrets()) {
                    if (e.type() == SecretType.KEY) {
                        upstream.allowKey(s.value());
                        secrets.add(s);
                    } else {
                        URI p = URI.create(s.value());
                        DemoProxy proxy = new DemoProxy(s.id(), URI.create(upstream.url()), p.getUserInfo(),
                                upstream.httpsUrl() == null ? -1 : URI.create(upstream.httpsUrl()).getPort()).start();
                        env.proxies.add(proxy);
                        String userInfo = p.getRawUserInfo() == null ? "" : p.getRawUserInfo() + "@";
                        secrets.add(new SecretConfig(s.id(), "http://" + userInfo + "127.0.0.1:" + proxy.port(), s.limits()));
                    }
                }
                endpoints.put(e.name(), e.toBuilder().withBaseUrl(base).withAllowedHosts(List.of("127.0.0.1"))
                        .withSecrets(secrets).build());
            }
            return new DemoEnvironment(upstream, new SecretsConfig(example.usageStore(), endpoints)).withProxies(env.proxies);
        } catch (Exception e) {
            env.close();
            throw e;
        }
    }

    private DemoEnvironment withProxies(List<DemoProxy> started) {
        proxies.addAll(started);
        return this;
    }

    private static boolean isLoopback(String host) {
        try {
            return host != null && InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The demo configuration, pointing at the demo upstream and proxies. */
    public SecretsConfig config() {
        return config;
    }

    /** The demo upstream. */
    public DemoUpstream upstream() {
        return upstream;
    }

    @Override
    public void close() throws Exception {
        for (DemoProxy p : proxies) {
            p.close();
        }
        upstream.close();
    }
}
