package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.KeyPlacement;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.elastic.ElasticsearchBackend;
import dev.proxymanager.middleware.store.InMemoryUsageStore;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A restarted {@link ProxyManager} counts the uses its request log remembers against still-open windows. */
@ExtendWith(ElasticsearchExtension.class)
class UsageRestoreTest {

    private static final AtomicInteger RUN = new AtomicInteger();
    private static final String KEY = "restore-test-key-value-1";
    private static ElasticsearchTestNode es;

    @AutoClose
    private UpstreamServer upstream;
    private SecretsConfig secrets;
    private String dataStream;

    @BeforeAll
    static void node(ElasticsearchTestNode node) {
        es = node;
    }

    private void given(int dailyLimit) throws IOException {
        upstream = UpstreamServer.withKeys(Map.of(KEY, 1_000));
        secrets = TestEndpoints.config(EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(upstream.baseUrl())
                .withKey(KeyPlacement.DEFAULT).withLimit(LimitConfig.of(dailyLimit, Duration.ofDays(1)))
                .withSecret("k1", KEY).build());
        dataStream = es.index("restore-requests-" + RUN.incrementAndGet());
    }

    private ProxyManager.Builder manager() {
        return ProxyManager.builder().secrets(secrets).cacheAndLog(ElasticsearchBackend.of(es.client()))
                .requestLogDataStream(dataStream)
                .cacheIndex(dataStream + "-cache").maxWait(Duration.ZERO);
    }

    /** Uses the key {@code n} times, then stops the process's manager (which flushes its request log). */
    private void runAndStop(int n) throws IOException {
        try (ProxyManager first = manager().build(); Request req = first.request(SecretType.KEY, "api", false)) {
            for (int i = 0; i < n; i++) {
                assertThat(req.send("GET", upstream.url("/items/" + i), null, null).status()).isEqualTo(200);
            }
        }
        es.client().indices().refresh(r -> r.index(dataStream));
    }

    @Test
    void aRestartDoesNotResetADailyLimit() throws IOException {
        // given a key allowed 3 requests a day, all used before a restart
        given(3);
        runAndStop(3);

        // when the process starts again on the same request log
        try (ProxyManager restarted = manager().build(); Request req = restarted.request(SecretType.KEY, "api", false)) {
            // then the key is still used up for the day
            assertThatThrownBy(() -> req.send("GET", upstream.url("/items/x"), null, null))
                    .isInstanceOf(NoSecretAvailableException.class);
            assertThat(restarted.stats("api").getFirst().windows().getFirst().uses()).isEqualTo(3);
        }
    }

    @Test
    void restoredUsesLeaveTheRestOfTheWindowUsable() throws IOException {
        given(5);
        runAndStop(2);

        try (ProxyManager restarted = manager().build(); Request req = restarted.request(SecretType.KEY, "api", false)) {
            for (int i = 0; i < 3; i++) {
                assertThat(req.send("GET", upstream.url("/more/" + i), null, null).status()).isEqualTo(200);
            }
            assertThatThrownBy(() -> req.send("GET", upstream.url("/more/x"), null, null))
                    .isInstanceOf(NoSecretAvailableException.class);
        }
    }

    @Test
    void withRestoreOffOrAFreshLogTheCountsStartAtZero() throws IOException {
        given(3);
        // a log that does not exist yet is no error
        try (ProxyManager fresh = manager().build()) {
            assertThat(fresh.stats("api").getFirst().windows().getFirst().uses()).isZero();
        }
        runAndStop(3);

        try (ProxyManager restarted = manager().restoreUsageFromLog(false).build()) {
            assertThat(restarted.stats("api").getFirst().windows().getFirst().uses()).isZero();
        }
        // an explicit in-memory store is still this process's own: restored
        try (ProxyManager restarted = manager().usageStore(new InMemoryUsageStore()).build()) {
            assertThat(restarted.stats("api").getFirst().windows().getFirst().uses()).isEqualTo(3);
        }
    }
}
