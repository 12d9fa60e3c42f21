package dev.proxymanager.middleware.cache;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.UniqueElements;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CacheKeyTest {

    @Test
    void normalisesMethodSchemeHostDefaultPortQueryOrderAndFragment() {
        // given a URL in a non-canonical spelling
        CacheKey key = CacheKey.builder("get", "HTTPS://API.Example.COM:443/repos?b=2&a=1#readme").build();

        // then
        assertThat(key.method()).isEqualTo("GET");
        assertThat(key.url()).isEqualTo("https://api.example.com/repos?a=1&b=2");
    }

    @Test
    void keepsNonDefaultPortAndAddsRootPath() {
        assertThat(CacheKey.builder("GET", "http://example.com:8080").build().url())
                .isEqualTo("http://example.com:8080/");
        assertThat(CacheKey.builder("GET", "http://example.com:80?x=1").build().url())
                .isEqualTo("http://example.com/?x=1");
    }

    @Test
    void sameKeyWhetherParamsComeInTheUrlOrSeparately() {
        CacheKey inUrl = CacheKey.builder("GET", "https://api.example.com/search?q=java&page=2").build();
        CacheKey separate = CacheKey.builder("GET", "https://api.example.com/search")
                .withParams(Map.of("page", List.of("2"), "q", List.of("java"))).build();

        assertThat(separate.id()).isEqualTo(inUrl.id());
        assertThat(separate.params()).containsExactly(Map.entry("page", List.of("2")), Map.entry("q", List.of("java")));
    }

    @Test
    void keepsOrderOfRepeatedParameterValues() {
        CacheKey ab = CacheKey.builder("GET", "https://h/x?a=1&a=2").build();
        CacheKey ba = CacheKey.builder("GET", "https://h/x?a=2&a=1").build();

        assertThat(ab.id()).isNotEqualTo(ba.id());
    }

    @Test
    void jsonBodiesWithTheSameContentInAnotherKeyOrderShareAKey() {
        byte[] one = "{\"b\":1,\"a\":{\"y\":true,\"x\":[2,1]}}".getBytes(StandardCharsets.UTF_8);
        byte[] two = "{ \"a\": {\"x\": [2, 1], \"y\": true}, \"b\": 1 }".getBytes(StandardCharsets.UTF_8);

        CacheKey k1 = CacheKey.builder("POST", "https://h/q").withBody(one, "application/json").build();
        CacheKey k2 = CacheKey.builder("POST", "https://h/q").withBody(two, "application/json; charset=utf-8").build();

        assertThat(k1.id()).isEqualTo(k2.id());
        assertThat(k1.data()).isEqualTo("{\"a\":{\"x\":[2,1],\"y\":true},\"b\":1}");
    }

    @Test
    void formBodiesAreSortedByField() {
        CacheKey k = CacheKey.builder("POST", "https://h/f")
                .withBody("z=1&a=hello+world".getBytes(StandardCharsets.UTF_8), "application/x-www-form-urlencoded")
                .build();

        assertThat(k.data()).isEqualTo("a=hello+world&z=1");
    }

    @Test
    void binaryBodiesAreKeptAsBase64() {
        CacheKey k = CacheKey.builder("POST", "https://h/b").withBody(new byte[]{(byte) 0xff, 0, 1}, null).build();

        assertThat(k.data()).isEqualTo("base64:/wAB");
    }

    @Test
    void onlyVaryHeadersChangeTheKey() {
        CacheKey json = CacheKey.builder("GET", "https://h/x").withVaryHeaders(List.of("Accept"))
                .withHeaders(Map.of("accept", List.of("application/json"), "User-Agent", List.of("a"))).build();
        CacheKey xml = CacheKey.builder("GET", "https://h/x").withVaryHeaders(List.of("accept"))
                .withHeaders(Map.of("Accept", List.of("application/xml"), "User-Agent", List.of("a"))).build();
        CacheKey otherAgent = CacheKey.builder("GET", "https://h/x").withVaryHeaders(List.of("accept"))
                .withHeaders(Map.of("Accept", List.of("application/json"), "User-Agent", List.of("b"))).build();

        assertThat(json.id()).isNotEqualTo(xml.id());
        assertThat(otherAgent.id()).isEqualTo(json.id());
        assertThat(json.headers()).containsOnlyKeys("accept");
    }

    @Test
    void keyHeaderAndCredentialsNeverEnterTheKeyEvenWhenListedAsVary() {
        // given two requests that differ only by the secret they carry
        CacheKey withA = CacheKey.builder("GET", "https://user:proxypass@api.example.com/x?api_key=SECRET_A&q=1")
                .withVaryHeaders(List.of("authorization", "x-api-key", "proxy-authorization"))
                .withHeaders(Map.of("Authorization", List.of("Bearer SECRET_A"), "X-Api-Key", List.of("SECRET_A"),
                        "Proxy-Authorization", List.of("Basic SECRET_A")))
                .withSecretHeaders(Set.of("X-Api-Key"))
                .withSecretQueryParameters(Set.of("api_key"))
                .build();
        CacheKey withB = CacheKey.builder("GET", "https://api.example.com/x?q=1&api_key=SECRET_B")
                .withVaryHeaders(List.of("authorization", "x-api-key"))
                .withHeaders(Map.of("Authorization", List.of("Bearer SECRET_B"), "X-Api-Key", List.of("SECRET_B")))
                .withSecretHeaders(Set.of("x-api-key"))
                .withSecretQueryParameters(Set.of("api_key"))
                .withParams(Map.of("api_key", List.of("SECRET_C")))
                .build();

        // then they share one key, and no secret appears anywhere in it
        assertThat(withA.id()).isEqualTo(withB.id());
        for (CacheKey k : List.of(withA, withB)) {
            assertThat(k.material()).doesNotContain("SECRET", "proxypass", "user@");
            assertThat(k.url()).isEqualTo("https://api.example.com/x?q=1");
            assertThat(k.toString()).doesNotContain("SECRET");
            assertThat(k.params()).containsOnlyKeys("q");
        }
    }

    @Test
    void secretParametersAreLeftOutOfFormBodiesToo() {
        CacheKey k = CacheKey.builder("POST", "https://h/f").withSecretQueryParameters(Set.of("api_key"))
                .withBody("api_key=SECRET&a=1".getBytes(StandardCharsets.UTF_8), "application/x-www-form-urlencoded")
                .build();

        assertThat(k.data()).isEqualTo("a=1");
    }

    @Test
    void idIsTheSha256OfTheMaterial() throws Exception {
        CacheKey k = CacheKey.builder("GET", "https://h/x").withEndpoint("github").build();

        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(k.material().getBytes(StandardCharsets.UTF_8)));
        assertThat(k.id()).isEqualTo(expected).hasSize(64);
        assertThat(k.material()).contains("\"endpoint\":\"github\"", "\"method\":\"GET\"");
    }

    @Test
    void endpointIsPartOfTheKey() {
        assertThat(CacheKey.builder("GET", "https://h/x").withEndpoint("a").build().id())
                .isNotEqualTo(CacheKey.builder("GET", "https://h/x").withEndpoint("b").build().id());
    }

    @Test
    void rejectsRelativeUrlWithoutEchoingItsQuery() {
        assertThatThrownBy(() -> CacheKey.builder("GET", "/x?api_key=SECRET").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("absolute")
                .hasMessageNotContaining("SECRET");
    }

    @Property(tries = 50)
    void parameterOrderNeverChangesTheKey(@ForAll @Size(min = 1, max = 6) @UniqueElements List<@net.jqwik.api.constraints.AlphaChars @net.jqwik.api.constraints.StringLength(min = 1, max = 5) String> names,
                                          @ForAll long seed) {
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            pairs.add(names.get(i) + "=" + i);
        }
        List<String> shuffled = new ArrayList<>(pairs);
        Collections.shuffle(shuffled, new Random(seed));

        CacheKey a = CacheKey.builder("GET", "https://h/p?" + String.join("&", pairs)).build();
        CacheKey b = CacheKey.builder("GET", "https://h/p?" + String.join("&", shuffled)).build();

        assertThat(b.id()).isEqualTo(a.id());
    }
}
