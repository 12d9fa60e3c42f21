package dev.proxymanager.server.security;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BearerTokenAuthTest {

    @Test
    void acceptsOnlyTheExactBearerToken() {
        BearerTokenAuth auth = new BearerTokenAuth("the-admin-token-123456");

        assertThat(auth.permitsAuthorization("Bearer the-admin-token-123456")).isTrue();
        assertThat(auth.permitsAuthorization("bearer the-admin-token-123456")).isTrue();
        assertThat(auth.permitsAuthorization("Bearer the-admin-token-12345")).isFalse();
        assertThat(auth.permitsAuthorization("Basic the-admin-token-123456")).isFalse();
        assertThat(auth.permitsAuthorization("Bearer ")).isFalse();
        assertThat(auth.permitsAuthorization(null)).isFalse();
    }

    @Test
    void acceptsTheTokenItselfOnlyWhenExact() {
        BearerTokenAuth auth = new BearerTokenAuth("the-admin-token-123456");

        assertThat(auth.permitsToken("the-admin-token-123456")).isTrue();
        assertThat(auth.permitsToken("the-admin-token-1234567")).isFalse();
        assertThat(auth.permitsToken("")).isFalse();
        assertThat(auth.permitsToken(null)).isFalse();
    }

    @Test
    void theSessionCookieIsNotTheTokenAndChangesWithIt() {
        BearerTokenAuth auth = new BearerTokenAuth("the-admin-token-123456");
        String cookie = auth.sessionCookieValue();

        assertThat(cookie).isNotBlank().doesNotContain("the-admin-token-123456");
        assertThat(auth.permitsToken(cookie)).isFalse();
        assertThat(new BearerTokenAuth("the-admin-token-123457").sessionCookieValue()).isNotEqualTo(cookie);
        assertThat(new BearerTokenAuth("the-admin-token-123456").sessionCookieValue()).isEqualTo(cookie);
    }

    @Test
    void withoutATokenNothingIsPermitted() {
        BearerTokenAuth auth = new BearerTokenAuth(null);

        assertThat(auth.configured()).isFalse();
        assertThat(auth.sessionCookieValue()).isNull();
        assertThat(auth.permitsToken("anything")).isFalse();
        assertThat(auth.permitsAuthorization("Bearer anything")).isFalse();
    }

    @Test
    void hopByHopHeadersAndLineBreaksAreCaught() {
        assertThat(HeaderPolicy.forwardsRequestHeader("Connection", false)).isFalse();
        assertThat(HeaderPolicy.forwardsRequestHeader("Proxy-Authorization", false)).isFalse();
        assertThat(HeaderPolicy.forwardsRequestHeader("Authorization", true)).isFalse();
        assertThat(HeaderPolicy.forwardsRequestHeader("Authorization", false)).isTrue();
        assertThat(HeaderPolicy.forwardsResponseHeader("Transfer-Encoding")).isFalse();
        assertThat(HeaderPolicy.hasLineBreak("a\r\nb")).isTrue();
        assertThat(HeaderPolicy.hasLineBreak("plain")).isFalse();
    }
}
