package dev.proxymanager.server.security;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BearerTokenAuthTest {

    @Test
    void acceptsOnlyTheExactBearerToken() {
        BearerTokenAuth auth = new BearerTokenAuth("the-admin-token-123456");

        assertThat(auth.permits("Bearer the-admin-token-123456")).isTrue();
        assertThat(auth.permits("bearer the-admin-token-123456")).isTrue();
        assertThat(auth.permits("Bearer the-admin-token-12345")).isFalse();
        assertThat(auth.permits("Basic the-admin-token-123456")).isFalse();
        assertThat(auth.permits("Bearer ")).isFalse();
        assertThat(auth.permits(null)).isFalse();
    }

    @Test
    void withoutATokenNothingIsPermitted() {
        BearerTokenAuth auth = new BearerTokenAuth(null);

        assertThat(auth.configured()).isFalse();
        assertThat(auth.permits("Bearer anything")).isFalse();
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
