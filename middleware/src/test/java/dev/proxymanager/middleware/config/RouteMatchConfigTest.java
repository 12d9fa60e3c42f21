package dev.proxymanager.middleware.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code "match"} on limits (route buckets) and {@code "costs"} in secrets.json. */
class RouteMatchConfigTest {

    private static EndpointConfig parse(String fields) {
        return SecretsConfig.parse("{\"endpoints\":{\"github\":{\"type\":\"key\",\"base_url\":\"https://api.github.com\","
                + fields + ",\"secrets\":[{\"id\":\"gh-1\",\"value\":\"ghp_value_0001\"}]}}}", Map.of())
                .endpoint("github");
    }

    private static void refused(String fields, String message) {
        assertThatThrownBy(() -> parse(fields)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void aLimitWithAMatchCountsOnlyTheCallsItMatches() {
        EndpointConfig e = parse("\"limits\":[{\"requests\":5000,\"per\":\"1h\"},"
                + "{\"requests\":30,\"per\":\"1m\",\"match\":{\"methods\":[\"get\"],\"path\":\"/search/*\"}}]");

        LimitConfig search = e.limits().get(1);
        assertThat(e.limits().get(0).match()).isNull();
        assertThat(search.match().methods()).containsExactly("GET");
        assertThat(search.match().matches("GET", "/search/code")).isTrue();
        assertThat(search.match().matches("get", "/search/issues/x")).isTrue();
        assertThat(search.match().matches("POST", "/search/code")).isFalse();
        assertThat(search.match().matches("GET", "/repos/search/x")).isFalse();
        assertThat(search.match().matches(null, "/search/code")).isFalse();
        assertThat(e.routeBuckets()).containsExactly(search.match());
    }

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
            "/search/*, /search/code, true",
            "/search/*, /search/, true",
            "/search/*, /search, false",
            "/*/issues, /repos/issues, true",
            "/*/issues, /a/b/issues, true",
            "/graphql, /graphql, true",
            "/graphql, /graphql/x, false",
            "*, /anything, true",
            "/a*b*c, /aXbYc, true",
            "/a*b*c, /aXbY, false",
    })
    void aPathGlobStarMatchesAnyCharacters(String glob, String path, boolean matches) {
        assertThat(new RouteMatch(List.of(), glob.equals("*") ? "/*" : glob).matches("GET", path)).isEqualTo(matches);
    }

    @Test
    void theCanonicalMatchIsTheSameWhateverTheOrderAndCaseOfMethods() {
        assertThat(new RouteMatch(List.of("post", "GET"), "/graphql").canonical()).isEqualTo("GET,POST /graphql");
        assertThat(new RouteMatch(List.of("GET", "POST", "post"), "/graphql").canonical())
                .isEqualTo("GET,POST /graphql");
        assertThat(new RouteMatch(List.of(), "/search/*").canonical()).isEqualTo("* /search/*");
        assertThat(new RouteMatch(List.of("DELETE"), null).canonical()).isEqualTo("DELETE *");
    }

    @Test
    void bucketsAreOrderedByTheirMatchNotByWhereTheyAreWritten() {
        EndpointConfig a = parse("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/z\"}},"
                + "{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/a\"}}]");
        EndpointConfig b = parse("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/a\"}},"
                + "{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/z\"}}]");

        assertThat(a.routeBuckets()).isEqualTo(b.routeBuckets());
        assertThat(a.routeBuckets()).extracting(RouteMatch::canonical).containsExactly("* /a", "* /z");
    }

    @Test
    void costsTakeTheFirstMatchingEntryAndDefaultToOne() {
        EndpointConfig e = parse("\"costs\":[{\"match\":{\"methods\":[\"POST\"],\"path\":\"/graphql\"},\"cost\":10},"
                + "{\"match\":{\"path\":\"/*\"},\"cost\":2}]");

        assertThat(e.costOf("POST", "/graphql")).isEqualTo(10);
        assertThat(e.costOf("GET", "/graphql")).isEqualTo(2);
        assertThat(e.costOf(null, null)).isEqualTo(1);
        assertThat(parse("\"limits\":[]").costOf("GET", "/")).isEqualTo(1);
    }

    @Test
    void badMatchesNameTheFieldTheValueAndWhatIsExpected() {
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{}}]",
                "endpoints.github.limits[0].match must name \"methods\", a \"path\" or both");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"search/*\"}}]",
                "endpoints.github.limits[0].match.path must be a path glob like \"/search/*\" (starting with /,"
                        + " no query, no spaces), was \"search/*\"");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/s?q=1\"}}]",
                "endpoints.github.limits[0].match.path must be a path glob like \"/search/*\" (starting with /,"
                        + " no query, no spaces), was \"/s?q=1\"");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"methods\":[\"GET\",\"G T\"]}}]",
                "endpoints.github.limits[0].match.methods[1] must be an HTTP method like \"GET\", was \"G T\"");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"methods\":\"GET\"}}]",
                "endpoints.github.limits[0].match.methods must be an array of strings, was \"GET\"");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"route\":\"/x\"}}]",
                "endpoints.github.limits[0].match.route is not a known field; known fields: [methods, path]");
        refused("\"limits\":[{\"requests\":1,\"per\":\"1m\",\"cooldown\":\"1m\",\"match\":{\"path\":\"/x\"}}]",
                "endpoints.github.limits[0].cooldown does not go with \"match\" (a route bucket's limit is no usage"
                        + " cap)");
    }

    @Test
    void badCostsNameTheFieldTheValueAndWhatIsExpected() {
        refused("\"costs\":[{\"match\":{\"path\":\"/x\"},\"cost\":0}]",
                "endpoints.github.costs[0].cost must be between 1 and 100000, was 0");
        refused("\"costs\":[{\"match\":{\"path\":\"/x\"},\"cost\":\"10\"}]",
                "endpoints.github.costs[0].cost must be a whole number, was \"10\"");
        refused("\"costs\":[{\"cost\":3}]", "endpoints.github.costs[0].match is required");
        refused("\"costs\":{\"cost\":3}", "endpoints.github.costs must be an array like [{\"match\": {\"path\":"
                + " \"/search/*\"}, \"cost\": 10}], was an object with fields [cost]");
    }

    @Test
    void aGroupLimitTakesNoMatch() {
        refused("\"groups\":{\"acct\":{\"limits\":[{\"requests\":1,\"per\":\"1m\",\"match\":{\"path\":\"/x\"}}],"
                        + "\"secrets\":[\"gh-1\"]}}",
                "endpoints.github.groups.acct.limits[0].match is not supported on a group limit (a group counts every"
                        + " call of its members)");
    }

    @Test
    void aLimitChangedLiveKeepsItsMatch() {
        EndpointConfig e = parse("\"limits\":[{\"requests\":30,\"per\":\"1m\",\"match\":{\"path\":\"/search/*\"}}]");

        EndpointConfig changed = SecretsConfig.changeEndpoint(e, new com.fasterxml.jackson.databind.ObjectMapper()
                .valueToTree(Map.of("limits", List.of(Map.of("requests", 20, "per", "1m",
                        "match", Map.of("path", "/search/*"))))), "endpoints.github");

        assertThat(changed.limits()).containsExactly(new LimitConfig(20, Duration.ofMinutes(1), Duration.ZERO,
                new RouteMatch(List.of(), "/search/*")));
    }
}
