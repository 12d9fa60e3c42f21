package dev.proxymanager.middleware.log;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RedactionTest {

    @Test
    void masksALongSecretToItsEnds() {
        assertThat(Redaction.mask("ghp_abcdefghijklmnopa1b2")).isEqualTo("ghp_…a1b2");
    }

    @Test
    void masksAShortSecretToItsLastTwoCharacters() {
        assertThat(Redaction.mask("hunter2")).isEqualTo("…r2");
        assertThat(Redaction.mask("")).isEqualTo("…");
    }

    @Test
    void redactsSecretQueryParametersAndCredentialsInUrls() {
        String redacted = Redaction.url("https://user:pa55@api.example.com:8443/v1/items?q=java&api_key=SECRET#top",
                List.of("api_key"));

        assertThat(redacted).isEqualTo("https://api.example.com:8443/v1/items?q=java&api_key=REDACTED")
                .doesNotContain("SECRET", "pa55");
    }

    @Test
    void aParsedUrlIsRedactedLikeItsText() {
        String url = "https://user:pa55@api.example.com:8443/v1/items?q=java&api_key=SECRET#top";

        assertThat(Redaction.url(URI.create(url), List.of("api_key"))).isEqualTo(Redaction.url(url, List.of("api_key")))
                .doesNotContain("SECRET", "pa55");
    }

    @Test
    void anUnparseableUrlLosesItsQueryRatherThanLeakIt() {
        assertThat(Redaction.url("https://h/x y?api_key=SECRET", List.of("api_key"))).isEqualTo("https://h/x y");
    }
}
