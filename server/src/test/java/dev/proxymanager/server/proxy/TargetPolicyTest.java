package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.config.CidrBlock;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.config.EndpointConfig;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TargetPolicyTest {

    /** The policy checking targets for the proxy endpoint named in {@code check}, with the patterns listed for it. */
    private record Checker(Map<String, List<String>> patterns, TargetPolicy policy) {
        static Checker of(Map<String, List<String>> patterns) {
            return new Checker(patterns, TargetPolicy.system());
        }

        static Checker of(Map<String, List<String>> patterns, TargetPolicy.Resolver resolver) {
            return new Checker(patterns, TargetPolicy.of(resolver));
        }

        TargetPolicy.Decision check(String endpoint, String host, int port) {
            EndpointConfig e = EndpointConfig.builder(endpoint, SecretType.PROXY).withSecret("p-1", "http://127.0.0.1:1")
                    .withAllowedTargetPatterns(patterns.getOrDefault(endpoint, List.of()).toArray(String[]::new)).build();
            return policy.check(e, host, port);
        }
    }

    /** A resolver over a fixed table, standing in for DNS names the test machine cannot resolve. */
    private static TargetPolicy.Resolver table(Map<String, String> names) {
        return host -> {
            String ip = names.get(host);
            if (ip == null) {
                if (CidrBlock.isIpLiteral(host)) {
                    return InetAddress.getAllByName(host);
                }
                throw new UnknownHostException(host);
            }
            return new InetAddress[]{InetAddress.getByName(ip)};
        };
    }

    @Test
    void wildcardSubdomainPatternAllowsSubdomainsOnlyOnItsPort() {
        Checker p = Checker.of(Map.of("pool", List.of("*.example.com:443")),
                table(Map.of("api.example.com", "93.184.216.34", "example.com", "93.184.216.34")));
        assertThat(p.check("pool", "api.example.com", 443)).isInstanceOf(TargetPolicy.Allowed.class);
        assertThat(p.check("pool", "api.example.com", 80)).isInstanceOf(TargetPolicy.Refused.class);
        assertThat(p.check("pool", "example.com", 443)).isInstanceOf(TargetPolicy.Refused.class);
    }

    @Test
    void hostOutsideThePatternsIsRefused() {
        Checker p = Checker.of(Map.of("pool", List.of("example.com")),
                table(Map.of("other.org", "93.184.216.35")));
        assertThat(p.check("pool", "other.org", 80)).isInstanceOfSatisfying(TargetPolicy.Refused.class,
                r -> assertThat(r.reason()).contains("other.org").contains("allowed_targets"));
        assertThat(p.check("unlisted-endpoint", "other.org", 80)).isInstanceOf(TargetPolicy.Refused.class);
    }

    @Test
    void nameResolvingToMetadataAddressIsRefusedEvenWhenListedExplicitly() {
        Checker p = Checker.of(Map.of("pool", List.of("*", "169.254.0.0/16", "metadata.internal")),
                table(Map.of("metadata.internal", "169.254.169.254", "alibaba.test", "100.100.100.200")));
        assertThat(p.check("pool", "metadata.internal", 80)).isInstanceOfSatisfying(TargetPolicy.Refused.class,
                r -> assertThat(r.reason()).contains("169.254.169.254").contains("metadata"));
        assertThat(p.check("pool", "169.254.169.254", 80)).isInstanceOf(TargetPolicy.Refused.class);
        assertThat(p.check("pool", "alibaba.test", 80)).isInstanceOf(TargetPolicy.Refused.class);
        assertThat(p.check("pool", "fd00:ec2::254", 80)).isInstanceOf(TargetPolicy.Refused.class);
        assertThat(p.check("pool", "[::ffff:169.254.169.254]", 80)).isInstanceOf(TargetPolicy.Refused.class);
    }

    @Test
    void privateAndLoopbackAddressesNeedTheAddressListedNotJustAName() throws Exception {
        // given "*" (any public host): localhost resolves, for real, to loopback
        Checker open = Checker.of(Map.of("pool", List.of("*")));
        assertThat(open.check("pool", "localhost", 80)).isInstanceOf(TargetPolicy.Refused.class);
        assertThat(open.check("pool", "10.1.2.3", 80)).isInstanceOfSatisfying(TargetPolicy.Refused.class,
                r -> assertThat(r.reason()).contains("private"));
        assertThat(open.check("pool", "192.168.1.1", 80)).isInstanceOf(TargetPolicy.Refused.class);
        // when the endpoint lists the loopback address itself
        Checker listed = Checker.of(Map.of("pool", List.of("127.0.0.1", "10.0.0.0/8:8080")));
        assertThat(listed.check("pool", "127.0.0.1", 1234)).isInstanceOf(TargetPolicy.Allowed.class);
        assertThat(listed.check("pool", "10.9.9.9", 8080)).isInstanceOf(TargetPolicy.Allowed.class);
        assertThat(listed.check("pool", "10.9.9.9", 8081)).isInstanceOf(TargetPolicy.Refused.class);
    }

    @Test
    void unresolvableNameIsRefused() {
        Checker p = Checker.of(Map.of("pool", List.of("*")), table(Map.of()));
        assertThat(p.check("pool", "nowhere.invalid", 80)).isInstanceOf(TargetPolicy.Refused.class);
    }
}
