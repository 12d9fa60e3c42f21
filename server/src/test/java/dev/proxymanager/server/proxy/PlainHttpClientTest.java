package dev.proxymanager.server.proxy;

import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

import static dev.proxymanager.server.proxy.PlainHttpClient.retriableOnFreshConnection;
import static org.assertj.core.api.Assertions.assertThat;

/** The rule for sending a request again after its pooled upstream connection died (end to end: StaleUpstreamConnectionTest). */
class PlainHttpClientTest {

    @Test
    void onlyAReusedConnectionThatDiedIsRetried() {
        assertThat(retriableOnFreshConnection(new NoHttpResponseException("closed"), true, true, false)).isTrue();
        assertThat(retriableOnFreshConnection(new SocketException("Connection reset"), true, true, false)).isTrue();
        assertThat(retriableOnFreshConnection(new ConnectionClosedException(), true, true, false)).isTrue();
        // a new connection failing says something about the proxy
        assertThat(retriableOnFreshConnection(new NoHttpResponseException("closed"), false, true, false)).isFalse();
        // so do a slow answer, a refused dial and a failed TLS handshake, reused or not
        assertThat(retriableOnFreshConnection(new SocketTimeoutException("read timed out"), true, true, false)).isFalse();
        assertThat(retriableOnFreshConnection(new ConnectException("refused"), true, true, false)).isFalse();
        assertThat(retriableOnFreshConnection(new SSLHandshakeException("bad cert"), true, true, false)).isFalse();
    }

    @Test
    void aNonIdempotentRequestIsRetriedOnlyWhenTheUpstreamCannotHaveActedOnIt() {
        // a clean close without a byte of answer: the proxy had dropped the connection before the request came
        assertThat(retriableOnFreshConnection(new NoHttpResponseException("closed"), true, false, true)).isTrue();
        // a reset before the body started: the request never arrived whole
        assertThat(retriableOnFreshConnection(new SocketException("Broken pipe"), true, false, false)).isTrue();
        // a reset after the body went out: it may have been acted on
        assertThat(retriableOnFreshConnection(new SocketException("Connection reset"), true, false, true)).isFalse();
    }

    @Test
    void methodsThatMeanTheSameSentTwiceAreIdempotent() {
        assertThat(PlainHttpClient.isIdempotent("GET")).isTrue();
        assertThat(PlainHttpClient.isIdempotent("PUT")).isTrue();
        assertThat(PlainHttpClient.isIdempotent("POST")).isFalse();
        assertThat(PlainHttpClient.isIdempotent("PATCH")).isFalse();
    }
}
