package dev.proxymanager.middleware.config;

import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.cache.CachePolicy;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretsConfigTest {

    private static final String FULL = """
            { "usage_store": { "type": "redis", "uri": "redis://127.0.0.1:6379", "mode": "fail-closed", "lease_ttl": "45s" },
              "endpoints": {
                "github": {
                  "type": "key", "base_url": "https://api.github.com", "allowed_hosts": ["api.github.com"],
                  "key": { "header": "Authorization", "format": "Bearer {key}" },
                  "limits": [ { "requests": 5000, "per": "1h" }, { "requests": 500, "per": "15m", "cooldown": "15m" } ],
                  "rotation": "least-used", "rotation_interval": "30s", "lease": "shared", "max_holders": 4,
                  "lease_ttl": "60s",
                  "health": { "ban_statuses": [401, 403, 429], "ban_on_connection_error": true,
                              "failure_window": { "failures": 30, "per": "5m", "cooldown": "10m" },
                              "max_consecutive_failures": 100, "consecutive_failures_cooldown": "10m",
                              "backoff_base": "2s", "backoff_max": "5m", "remove_unhealthy": false },
                  "timeouts": { "connect": "10s", "read": "300s" },
                  "retry": { "max_retries": 2, "backoff_base": "200ms", "backoff_max": "5s", "retry_non_idempotent": false },
                  "cache": { "enabled": true, "ttl": "1h", "methods": ["GET", "HEAD"], "statuses": "200-299",
                             "vary_headers": ["accept"], "stale_if_error": "0s" },
                  "secrets": [ { "id": "gh-1", "value": "${GITHUB_TOKEN_1}", "limits": [ { "requests": 100, "per": "1m" } ] },
                               "ghp_plainvalue1234" ] },
                "search": { "type": "proxy", "secrets": [ "http://user:pass@127.0.0.1:8888", "http://127.0.0.1:8889" ] } } }
            """;

    private static SecretsConfig parse(String json) {
        return SecretsConfig.parse(json, Map.of("GITHUB_TOKEN_1", "ghp_fromTheEnvironmentA1B2"));
    }

    private static String endpoint(String body) {
        return "{ \"endpoints\": { \"search\": " + body + " } }";
    }

    @Test
    void parsesEveryFieldOfTheAgreedSchema() {
        SecretsConfig c = parse(FULL);
        assertThat(c.usageStore()).isEqualTo(new UsageStoreSettings("redis", URI.create("redis://127.0.0.1:6379"), false,
                Duration.ofSeconds(45)));
        EndpointConfig gh = c.endpoint("github");
        assertThat(gh.type()).isEqualTo(SecretType.KEY);
        assertThat(gh.key().headerValue("abc")).isEqualTo("Bearer abc");
        assertThat(gh.limits()).containsExactly(LimitConfig.of(5000, Duration.ofHours(1)),
                new LimitConfig(500, Duration.ofMinutes(15), Duration.ofMinutes(15)));
        assertThat(gh.lease()).isEqualTo(LeaseMode.SHARED);
        assertThat(gh.effectiveMaxHolders()).isEqualTo(4);
        assertThat(gh.health()).isEqualTo(HealthPolicy.DEFAULT);
        assertThat(gh.retry()).isEqualTo(RetryPolicy.DEFAULT);
        assertThat(gh.timeouts()).isEqualTo(Timeouts.DEFAULT);
        assertThat(gh.cache().varyHeaders()).containsExactly("accept");
        assertThat(gh.cache().allows("GET", 204)).isTrue();
        assertThat(gh.secrets().get(0).id()).isEqualTo("gh-1");
        assertThat(gh.secrets().get(1).id()).matches("ghp_…1234#[0-9a-f]{12}");
        assertThat(gh.secrets().get(0).value()).isEqualTo("ghp_fromTheEnvironmentA1B2");
        assertThat(gh.secrets().get(0).limits()).containsExactly(LimitConfig.of(100, Duration.ofMinutes(1)));
    }

    @Test
    void appliesDefaultsWhenOnlyTypeAndSecretsAreGiven() {
        EndpointConfig e = parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [\"http://127.0.0.1:8888\"] }"))
                .endpoint("search");
        assertThat(e.rotation()).isEqualTo(RotationMethod.LEAST_USED);
        assertThat(e.lease()).isEqualTo(LeaseMode.NONE);
        assertThat(e.leaseTtl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(e.cache()).isEqualTo(CachePolicy.DEFAULT);
        assertThat(e.limits()).isEmpty();
        assertThat(e.secrets()).singleElement().extracting(SecretConfig::id).asString()
                .matches("http://127\\.0\\.0\\.1:8888#[0-9a-f]{12}");
    }

    @Test
    void proxyCredentialsAreMaskedInIds() {
        EndpointConfig e = parse(FULL).endpoint("search");
        assertThat(e.secrets()).extracting(SecretConfig::id).satisfiesExactly(
                id -> assertThat(id).startsWith("http://…@127.0.0.1:8888#"),
                id -> assertThat(id).startsWith("http://127.0.0.1:8889#"));
        assertThat(e.secrets()).extracting(SecretConfig::maskedValue)
                .containsExactly("http://…@127.0.0.1:8888", "http://127.0.0.1:8889");
        assertThat(e.secrets().toString()).doesNotContain("pass");
    }

    @Test
    void secretValuesNeverAppearInToString() {
        SecretsConfig c = parse(FULL);
        assertThat(c.toString()).doesNotContain("ghp_fromTheEnvironmentA1B2").doesNotContain("ghp_plainvalue1234");
    }

    @Test
    void negativeRequestsNamePathValueAndExpectation() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"limits\": [ { \"requests\": -5, \"per\": \"60s\" } ],"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("endpoints.search.limits[0].requests must be > 0, was -5")
                .extracting(e -> ((ConfigException) e).path()).isEqualTo("endpoints.search.limits[0].requests");
    }

    @Test
    void unknownFieldIsRejectedListingKnownOnes() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"rotaton\": \"round-robin\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessageStartingWith("endpoints.search.rotaton is not a known field; known fields: [allowed_hosts, allowed_targets, base_url,")
                .hasMessageContaining("rotation");
    }

    @Test
    void missingEnvironmentVariableIsNamedButNoValueShown() {
        assertThatThrownBy(() -> SecretsConfig.parse(FULL, Map.of()))
                .hasMessage("endpoints.github.secrets[0].value references environment variable GITHUB_TOKEN_1, which is not set");
    }

    @Test
    void limitMarginIsADurationOrAPercentageOfEachWindow() {
        EndpointConfig fixed = parse(endpoint("{ \"type\": \"proxy\", \"limit_margin\": \"50ms\", \"secrets\": [\"http://127.0.0.1:1\"] }"))
                .endpoint("search");
        assertThat(fixed.limitMargin().nanosFor(Duration.ofSeconds(2).toNanos())).isEqualTo(Duration.ofMillis(50).toNanos());
        EndpointConfig percent = parse(endpoint("{ \"type\": \"proxy\", \"limit_margin\": \"2%\", \"secrets\": [\"http://127.0.0.1:1\"] }"))
                .endpoint("search");
        assertThat(percent.limitMargin().nanosFor(Duration.ofSeconds(2).toNanos())).isEqualTo(Duration.ofMillis(40).toNanos());
        assertThat(percent.limitMargin().describe()).isEqualTo("2%");
        EndpointConfig dflt = parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [\"http://127.0.0.1:1\"] }")).endpoint("search");
        assertThat(dflt.limitMargin()).isEqualTo(LimitMargin.DEFAULT);
    }

    @Test
    void badLimitMarginNamesPathValueAndAcceptedForms() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"limit_margin\": \"soon\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("endpoints.search.limit_margin is not valid (must be a duration like 50ms or a percentage of"
                        + " each window like 2%), was \"soon\"");
    }

    @Test
    void badDurationNamesTheAcceptedForms() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"lease_ttl\": \"10 minutes\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.lease_ttl must be a duration like 250ms, 90s, 15m, 1h or 1d, was \"10 minutes\"");
    }

    @Test
    void unknownRotationListsTheMethods() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"rotation\": \"random\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.rotation must be one of [least-used, round-robin, time-based, rate-limited,"
                        + " health-weighted], was \"random\"");
    }

    @Test
    void keyEndpointNeedsBaseUrl() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"key\", \"secrets\": [\"abc\"] }")))
                .hasMessage("endpoints.search.base_url is required for a key endpoint");
    }

    @Test
    void proxySecretMustBeAProxyUrlAndTheMessageMasksIt() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [\"not-a-url-secret-9876\"] }")))
                .hasMessage("endpoints.search.secrets[0] must be a proxy URL like http://host:port, was not-…9876");
    }

    @Test
    void duplicateSecretIdsAreRejected() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [ { \"id\": \"a\", \"value\": \"http://127.0.0.1:1\" },"
                + " { \"id\": \"a\", \"value\": \"http://127.0.0.1:2\" } ] }")))
                .hasMessageStartingWith("endpoints.search.secrets[1] has id a, which an earlier secret");
    }

    @Test
    void interceptionIsOffByDefaultAndReadPerProxyEndpoint() {
        EndpointConfig dflt = parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [\"http://127.0.0.1:1\"] }")).endpoint("search");
        assertThat(dflt.interceptTls()).isFalse();
        assertThat(dflt.interceptExclude()).isEmpty();

        EndpointConfig on = parse(endpoint("{ \"type\": \"proxy\", \"intercept_tls\": true, \"intercept_exclude\":"
                + " [\"*.bank.example\", \"10.0.0.0/8\"], \"secrets\": [\"http://127.0.0.1:1\"] }")).endpoint("search");
        assertThat(on.interceptTls()).isTrue();
        assertThat(on.interceptExclude()).extracting(TargetPattern::text).containsExactly("*.bank.example", "10.0.0.0/8");
        assertThat(on.toBuilder().build()).isEqualTo(on);
    }

    @Test
    void badInterceptExcludePatternNamesItsJsonPath() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"intercept_exclude\": [\"ok.example\", \"a*b.example\"],"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessageStartingWith("endpoints.search.intercept_exclude[1] must be *, a host, *.domain")
                .hasMessageContaining("a*b.example");
    }

    @Test
    void interceptTlsMustBeABoolean() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"intercept_tls\": \"yes\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessageStartingWith("endpoints.search.intercept_tls must be true or false");
    }

    @Test
    void interceptionSettingsAreRefusedOnKeyEndpoints() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\","
                + " \"intercept_tls\": true, \"secrets\": [\"abc\"] }")))
                .hasMessage("endpoints.search.intercept_tls applies to proxy endpoints only; this endpoint is a key endpoint");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\","
                + " \"intercept_exclude\": [\"*\"], \"secrets\": [\"abc\"] }")))
                .hasMessage("endpoints.search.intercept_exclude applies to proxy endpoints only; this endpoint is a key endpoint");
    }

    @Test
    void anErrorNeverRepeatsASecretPutInTheWrongPlace() {
        // a key pasted where an object or array belongs
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"secrets\": { \"value\": \"ghp_pastedWrong123\" } }")))
                .hasMessage("endpoints.search.secrets must be a non-empty array of secrets, was an object with fields [value]");
        assertThatThrownBy(() -> parse("{ \"endpoints\": [\"ghp_pastedWrong123\"] }"))
                .hasMessageNotContaining("ghp_pastedWrong123").hasMessageContaining("an array of 1 item");
        // a Redis URI with a password that does not parse
        assertThatThrownBy(() -> parse("{ \"usage_store\": { \"type\": \"redis\", \"uri\": \"redis://:s3cret pass@cache:6379\" },"
                + " \"endpoints\": { \"search\": { \"type\": \"proxy\", \"secrets\": [\"http://127.0.0.1:1\"] } } }"))
                .hasMessageStartingWith("usage_store.uri is not valid (").hasMessageContaining("redis://***@cache:6379")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void emptySecretsAndWrongTypesAreRejected() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [] }")))
                .hasMessage("endpoints.search.secrets must be a non-empty array of secrets, was []");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"max_holders\": \"4\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.max_holders must be a whole number, was \"4\"");
        assertThatThrownBy(() -> parse("{ \"endpoints\": "))
                .hasMessageStartingWith("secrets.json is not valid JSON at line 1");
    }

    @Test
    void keyInQueryParameter() {
        EndpointConfig e = parse("{ \"endpoints\": { \"maps\": { \"type\": \"key\", \"base_url\": \"http://127.0.0.1:1\","
                + " \"key\": { \"query\": \"api_key\" }, \"secrets\": [\"abcdefgh12345678\"] } } }").endpoint("maps");
        assertThat(e.key()).isEqualTo(KeyPlacement.query("api_key"));
        assertThat(e.allowedHosts()).containsExactly("127.0.0.1");
    }

    @Test
    void healthPolicyCrossFieldErrorsNameTheObject() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"health\": { \"backoff_base\": \"10s\", \"backoff_max\": \"1s\" },"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.health backoff_max must be >= backoff_base (10s), was 1s");
    }

    @Test
    void theShippedExampleLoads() {
        SecretsConfig c = SecretsConfig.load(Path.of("../examples/secrets.json"));
        assertThat(c.endpoints().keySet()).containsExactly("demo-api", "demo-search");
        assertThat(c.endpoint("demo-search").lease()).isEqualTo(LeaseMode.EXCLUSIVE);
        assertThat(c.endpoints().values()).allSatisfy(e ->
                assertThat(e.secrets()).allSatisfy(s -> assertThat(s.id()).doesNotContain(s.value())));
        assertThat(c.endpoint("demo-api").secrets()).extracting(SecretConfig::id).doesNotHaveDuplicates();
    }

    @Test
    void unknownEndpointListsKnownOnes() {
        assertThatThrownBy(() -> parse(FULL).endpoint("x")).hasMessage("no endpoint named 'x'; known endpoints: [github, search]");
    }

    @Test
    void durationsParseAndDescribe() {
        assertThat(List.of("250ms", "90s", "15m", "1h", "1d").stream().map(Durations::parse).toList())
                .containsExactly(Duration.ofMillis(250), Duration.ofSeconds(90), Duration.ofMinutes(15), Duration.ofHours(1),
                        Duration.ofDays(1));
        assertThat(Durations.describe(Duration.ofSeconds(60))).isEqualTo("60 s");
        assertThat(Durations.describe(Duration.ofMinutes(15))).isEqualTo("15 min");
        assertThat(Durations.describe(Duration.ofHours(1))).isEqualTo("1 h");
        assertThat(Set.of(SecretMasking.mask("ghp_abcdefgh12a1b2"), SecretMasking.mask("short"))).containsExactlyInAnyOrder("ghp_…a1b2", "…");
    }

    @Test
    void prefetchAsANumberIsTheQueueSizeWithTheDefaultMaxAge() {
        EndpointConfig e = parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": 4, \"secrets\": [\"http://127.0.0.1:1\"] }"))
                .endpoint("search");
        assertThat(e.prefetch()).isEqualTo(new PrefetchConfig(4, Duration.ofSeconds(1)));
    }

    @Test
    void prefetchAsAnObjectSetsSizeAndMaxAge() {
        EndpointConfig e = parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": { \"size\": 2, \"max_age\": \"250ms\" },"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")).endpoint("search");
        assertThat(e.prefetch()).isEqualTo(new PrefetchConfig(2, Duration.ofMillis(250)));
    }

    @Test
    void prefetchIsOffByDefault() {
        EndpointConfig e = parse(endpoint("{ \"type\": \"proxy\", \"secrets\": [\"http://127.0.0.1:1\"] }")).endpoint("search");
        assertThat(e.prefetch()).isEqualTo(PrefetchConfig.OFF);
        assertThat(e.prefetch().enabled()).isFalse();
    }

    @Test
    void badPrefetchSettingsNamePathValueAndExpectation() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": -1, \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .isInstanceOf(ConfigException.class).hasMessage("endpoints.search.prefetch must be between 0 and 1024, was -1");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": 5000, \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.prefetch must be between 0 and 1024, was 5000");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": \"4\", \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.prefetch must be a number of secrets or an object with size and max_age, was \"4\"");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": { \"max_age\": \"1s\" },"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.prefetch.size is required");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"prefetch\": { \"size\": 2, \"max_age\": \"0s\" },"
                + " \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .hasMessage("endpoints.search.prefetch.max_age must be > 0, was \"0s\"")
                .extracting(e -> ((ConfigException) e).path()).isEqualTo("endpoints.search.prefetch.max_age");
    }

    @Test
    void prefetchMaxAgeMustBeShorterThanTheLeaseTtl() {
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"proxy\", \"lease\": \"exclusive\", \"lease_ttl\": \"30s\","
                + " \"prefetch\": { \"size\": 2, \"max_age\": \"30s\" }, \"secrets\": [\"http://127.0.0.1:1\"] }")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("endpoints.search.prefetch.max_age must be shorter than lease_ttl (30 s), was 30 s");
    }

    private static String keyEndpoint(String quotaHeaders) {
        return endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\", \"quota_headers\": "
                + quotaHeaders + ", \"secrets\": [\"k-123456789\"] }");
    }

    @Test
    void quotaHeadersDefaultToAutoAndReadOffAndAMapping() {
        assertThat(parse(endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\", "
                + "\"secrets\": [\"k-123456789\"] }")).endpoint("search").quotaHeaders())
                .isSameAs(dev.proxymanager.middleware.quota.QuotaHeaders.AUTO);
        assertThat(parse(keyEndpoint("\"off\"")).endpoint("search").quotaHeaders())
                .isSameAs(dev.proxymanager.middleware.quota.QuotaHeaders.OFF);
        assertThat(parse(keyEndpoint("{ \"remaining\": \"X-Points-Left\", \"reset\": \"X-Points-Reset-In\", "
                + "\"reset_format\": \"seconds\" }")).endpoint("search").quotaHeaders())
                .hasToString("QuotaHeaders[limit=null, remaining=X-Points-Left, reset=X-Points-Reset-In, "
                        + "reset_format=seconds]");
    }

    @Test
    void badQuotaHeadersNameThePathAndTheChoices() {
        assertThatThrownBy(() -> parse(keyEndpoint("\"sometimes\"")))
                .hasMessageStartingWith("endpoints.search.quota_headers must be one of [auto, off]");
        assertThatThrownBy(() -> parse(keyEndpoint("{ \"reset\": \"R\" }")))
                .hasMessage("endpoints.search.quota_headers.remaining is required in a quota_headers mapping");
        assertThatThrownBy(() -> parse(keyEndpoint("{ \"remaining\": \"L\", \"reset\": \"R\", \"reset_format\": \"ms\" }")))
                .hasMessageStartingWith("endpoints.search.quota_headers.reset_format must be one of [auto, epoch-seconds, seconds]");
        assertThatThrownBy(() -> parse(keyEndpoint("5")))
                .hasMessageStartingWith("endpoints.search.quota_headers must be \"auto\", \"off\" or an object");
    }

    @Test
    void costHeaderNamesAHeaderAndDefaultsToNone() {
        assertThat(parse(keyEndpoint("\"auto\"")).endpoint("search").costHeader()).isNull();
        assertThat(parse(endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\", "
                + "\"cost_header\": \"X-Points-Used\", \"secrets\": [\"k-123456789\"] }")).endpoint("search")
                .costHeader()).isEqualTo("X-Points-Used");
        assertThatThrownBy(() -> parse(endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\", "
                + "\"cost_header\": \" \", \"secrets\": [\"k-123456789\"] }")))
                .hasMessage("endpoints.search.cost_header must name a header, was \" \"");
    }

    private static String groupsEndpoint(String groups) {
        return endpoint("{ \"type\": \"key\", \"base_url\": \"https://api.example.com\", \"groups\": " + groups
                + ", \"secrets\": [ { \"id\": \"k1\", \"value\": \"value-of-key-1\" },"
                + " { \"id\": \"k2\", \"value\": \"value-of-key-2\" } ] }");
    }

    @Test
    void groupsNameTheirLimitsAndMembers() {
        EndpointConfig e = parse(groupsEndpoint("{ \"acct-1\": { \"limits\": [ { \"requests\": 5000, \"per\": \"1h\" } ],"
                + " \"secrets\": [\"k1\", \"k2\"] } }")).endpoint("search");
        assertThat(e.groups()).containsExactly(new QuotaGroup("acct-1",
                List.of(LimitConfig.of(5000, java.time.Duration.ofHours(1))), List.of("k1", "k2")));
        assertThat(e.groupOf("k2").name()).isEqualTo("acct-1");
    }

    @Test
    void badGroupsAreNamedByTheirPath() {
        assertThatThrownBy(() -> parse(groupsEndpoint("{ \"a\": { \"limits\": [ { \"requests\": 5, \"per\": \"1m\" } ],"
                + " \"secrets\": [\"k9\"] } }")))
                .hasMessage("endpoints.search.groups.a.secrets names k9, which is not a secret id of this endpoint");
        assertThatThrownBy(() -> parse(groupsEndpoint("{ \"a\": { \"limits\": [ { \"requests\": 5, \"per\": \"1m\" } ],"
                + " \"secrets\": [\"k1\"] }, \"b\": { \"limits\": [ { \"requests\": 5, \"per\": \"1m\" } ],"
                + " \"secrets\": [\"k1\"] } }")))
                .hasMessage("endpoints.search.groups.b.secrets names k1, which is already in another group (a secret"
                        + " belongs to at most one)");
        assertThatThrownBy(() -> parse(groupsEndpoint("{ \"a\": { \"limits\": [ { \"requests\": 5, \"per\": \"1m\","
                + " \"cooldown\": \"1m\" } ], \"secrets\": [\"k1\"] } }")))
                .hasMessage("endpoints.search.groups.a.limits[0].cooldown is not supported on a group limit");
        assertThatThrownBy(() -> parse(groupsEndpoint("{ \"a\": { \"secrets\": [\"k1\"] } }")))
                .hasMessageStartingWith("endpoints.search.groups.a.limits");
    }

    @Test
    void limitsAndHealthScopedPerHostAreKeptApartFromThePerSecretOnes() {
        SecretsConfig c = SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"limits\":["
                + "{\"requests\":100,\"per\":\"1m\"},{\"requests\":30,\"per\":\"1m\",\"scope\":\"host\"}],"
                + "\"health\":{\"scope\":\"host\"},\"secrets\":[\"http://127.0.0.1:3128\"]}}}", Map.of());
        EndpointConfig crawl = c.endpoints().get("crawl");

        assertThat(crawl.limits()).containsExactly(LimitConfig.of(100, Duration.ofMinutes(1)));
        assertThat(crawl.hostLimits()).containsExactly(LimitConfig.of(30, Duration.ofMinutes(1)));
        assertThat(crawl.hostScopedHealth()).isTrue();
        assertThat(crawl.hostScoped()).isTrue();
    }

    @Test
    void scopeIsRefusedOnASecretsOwnLimitsOnKeyEndpointsAndWhenUnknown() {
        assertThatThrownBy(() -> SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"secrets\":["
                + "{\"value\":\"http://127.0.0.1:3128\",\"limits\":[{\"requests\":1,\"per\":\"1m\",\"scope\":\"host\"}]}]}}}",
                Map.of())).hasMessageContaining("endpoints.crawl.secrets[0].limits[0].scope is not a known field");
        assertThatThrownBy(() -> SecretsConfig.parse("{\"endpoints\":{\"api\":{\"type\":\"key\",\"base_url\":"
                + "\"https://api.example.com\",\"health\":{\"scope\":\"host\"},\"secrets\":[\"k-1\"]}}}", Map.of()))
                .hasMessageContaining("endpoints.api.health.scope").hasMessageContaining("proxy endpoints only");
        assertThatThrownBy(() -> SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"limits\":["
                + "{\"requests\":1,\"per\":\"1m\",\"scope\":\"site\"}],\"secrets\":[\"http://127.0.0.1:3128\"]}}}",
                Map.of())).hasMessage("endpoints.crawl.limits[0].scope must be one of [secret, host], was \"site\"");
    }

    @Test
    void banBodyPatternIsReadAndABadOneNamesItsPath() {
        SecretsConfig c = SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"health\":"
                + "{\"ban_body_pattern\":\"(?i)captcha\"},\"secrets\":[\"http://127.0.0.1:3128\"]}}}", Map.of());
        assertThat(c.endpoints().get("crawl").health().banBodyPattern()).isEqualTo(BanBodyPattern.compile("(?i)captcha"));
        assertThatThrownBy(() -> SecretsConfig.parse("{\"endpoints\":{\"crawl\":{\"type\":\"proxy\",\"health\":"
                + "{\"ban_body_pattern\":\"(unclosed\"},\"secrets\":[\"http://127.0.0.1:3128\"]}}}", Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("endpoints.crawl.health.ban_body_pattern")
                .hasMessageContaining("regular expression").hasMessageContaining("(unclosed");
    }
}
