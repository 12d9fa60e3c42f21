package dev.proxymanager.middleware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import co.elastic.clients.elasticsearch.core.search.Hit;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.elastic.ElasticsearchBackend;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.log.InMemoryRequestLog;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.SecretEvent;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The manager records every secret state change in its request log as an event document: the id, never the value. */
@ExtendWith(ElasticsearchExtension.class)
class SecretEventLogTest {

    private static final String BANNED_VALUE = "event-test-key-value-banned";
    private static final String LIMITED_VALUE = "event-test-key-value-limited";

    private final FakeClock clock = new FakeClock();
    @AutoClose
    private ProxyManager pm;

    private static EndpointConfig endpoint() {
        // k1 has 100 uses a minute (a 403 is a ban); k2 one use a minute (a 429 right after it is "limit reached")
        return EndpointConfig.builder("api", SecretType.KEY).withBaseUrl(URI.create("http://127.0.0.1:9"))
                .withLimit(LimitConfig.of(100, Duration.ofMinutes(1)))
                .withSecret("k1", BANNED_VALUE)
                .withSecret(new SecretConfig("k2", LIMITED_VALUE, List.of(LimitConfig.of(1, Duration.ofMinutes(1)))))
                .build();
    }

    /** A ban of k1, a cooldown of k2, then k1 removed and restored by the operator. */
    private static void banCooldownRemoveRestore(RotationEngine engine) {
        engine.release(grant(engine, "k1"), Outcome.status(403));
        engine.release(grant(engine, "k2"), Outcome.status(429));
        engine.removeSecret("api", "k1", "operator: leaked");
        engine.restoreSecret("api", "k1");
    }

    private static SecretLease grant(RotationEngine engine, String id) {
        AcquireResult r = engine.acquire("api", id);
        assertThat(r).isInstanceOf(AcquireResult.Granted.class);
        SecretLease lease = ((AcquireResult.Granted) r).lease();
        assertThat(lease.secretId()).isEqualTo(id);
        return lease;
    }

    @Test
    void aBanACooldownARemovalAndARestoreEachBecomeAnEventDocumentWithTheSecretsId() {
        // given
        InMemoryRequestLog log = new InMemoryRequestLog();
        pm = ProxyManager.builder().secrets(TestEndpoints.config(endpoint())).clock(clock).instanceId("replica-1")
                .requestLog(log).build();

        // when
        banCooldownRemoveRestore(pm.engine());

        // then
        assertThat(log.events()).extracting(SecretEvent::type, SecretEvent::secretId).containsExactly(
                org.assertj.core.groups.Tuple.tuple(SecretEvent.Type.BAN, "k1"),
                org.assertj.core.groups.Tuple.tuple(SecretEvent.Type.COOLDOWN, "k2"),
                org.assertj.core.groups.Tuple.tuple(SecretEvent.Type.REMOVED, "k1"),
                org.assertj.core.groups.Tuple.tuple(SecretEvent.Type.RESTORED, "k1"));
        assertThat(log.events()).allSatisfy(e -> {
            assertThat(e.instanceId()).isEqualTo("replica-1");
            assertThat(e.secretType()).isEqualTo("key");
            assertThat(e.endpoint()).isEqualTo("api");
            assertThat(e.timestamp()).isEqualTo(clock.now());
        });
        // the next free slot: the window plus its guard band
        assertThat(log.events().get(1).cooldownUntil())
                .isEqualTo(clock.now().plus(Duration.ofMinutes(1)).plus(LimitMargin.DEFAULT.fixed()));
        assertThat(log.events().get(1).reason()).contains("limit reached");
        assertThat(log.events().get(0).reason()).contains("status 403");
        assertThat(log.documents().toString()).doesNotContain(BANNED_VALUE, LIMITED_VALUE);
    }

    @Test
    void eventDocumentsReachTheRequestLogDataStreamOfARealNode(ElasticsearchTestNode es) throws IOException {
        // given
        String stream = es.index("event-requests");
        pm = ProxyManager.builder().secrets(TestEndpoints.config(endpoint())).cacheAndLog(ElasticsearchBackend.of(es.client()))
                .requestLogDataStream(stream).cacheIndex(stream + "-cache").build();

        // when
        banCooldownRemoveRestore(pm.engine());
        pm.requestLog().close(); // delivers what is buffered

        // then the four documents are there, as the Kibana panel queries them (event : *)
        es.client().indices().refresh(r -> r.index(stream));
        List<Map> docs = es.client().search(s -> s.index(stream).size(10)
                .query(q -> q.exists(x -> x.field(LogFields.EVENT))), Map.class).hits().hits().stream()
                .map(Hit::source).toList();
        assertThat(docs).extracting(d -> d.get(LogFields.EVENT) + " " + d.get(LogFields.SECRET_ID))
                .containsExactlyInAnyOrder("ban k1", "cooldown k2", "removed k1", "restored k1");
        assertThat(docs).allSatisfy(d -> assertThat(d).containsKey(LogFields.TIMESTAMP));
        assertThat(docs.toString()).doesNotContain(BANNED_VALUE, LIMITED_VALUE);
    }
}
