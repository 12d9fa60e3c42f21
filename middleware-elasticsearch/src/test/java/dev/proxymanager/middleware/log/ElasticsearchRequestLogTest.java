package dev.proxymanager.middleware.log;

import dev.proxymanager.middleware.health.OutcomeKind;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.mapping.Property;
import co.elastic.clients.elasticsearch.indices.IndexState;
import dev.proxymanager.middleware.elastic.ElasticsearchClients;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchExtension;
import dev.proxymanager.testsupport.elasticsearch.ElasticsearchTestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(ElasticsearchExtension.class)
class ElasticsearchRequestLogTest {
    static final Instant T = Instant.parse("2026-05-01T12:00:00Z");

    static RequestLogEntry entry(int i, String endpoint, String secretId, String cache) {
        return RequestLogEntry.builder().withTimestamp(T.plusSeconds(i)).withInstanceId("test")
                .withEndpoint(endpoint).withMethod("GET").withUrl("https://api.example.com/items/" + i)
                .withSecretId(secretId).withSecretType("key").withStatus(200).withLatencyMs(5L).withBytes(100L)
                .withCache(cache).withOutcome(OutcomeKind.SUCCESS).build();
    }

    private static long count(ElasticsearchClient client, String dataStream) throws IOException {
        client.indices().refresh(r -> r.index(dataStream));
        return client.count(c -> c.index(dataStream)).count();
    }

    @Test
    void deliversEntriesAndSecretEventsIntoADataStreamFromOurTemplate(ElasticsearchTestNode es) throws IOException {
        // given
        String stream = es.index("requests");
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(es.client()).withDataStream(stream)
                .withFlushInterval(Duration.ofMillis(100)).build();

        Logger logger = (Logger) LoggerFactory.getLogger(ElasticsearchRequestLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);

        // when
        for (int i = 0; i < 50; i++) {
            log.record(entry(i, "github", "gh-1", "miss"));
        }
        log.record(new SecretEvent(T, "test", "github", "gh-1", "key", SecretEvent.Type.COOLDOWN,
                T.plusSeconds(900), "3 failures within 5 min"));

        // then
        await().atMost(Duration.ofSeconds(20)).until(() -> log.deliveredCount() == 51);
        log.close();
        logger.detachAppender(captured);
        assertThat(events(captured)).as("the node has no ILM, and the log says so")
                .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("no ILM policy named " + stream));
        assertThat(count(es.client(), stream)).isEqualTo(51);
        assertThat(log.bufferedCount()).isZero();
        assertThat(log.droppedCount()).isZero();
        // GET _data_stream is not on every cluster; the backing index says which data stream it belongs to
        Map<String, IndexState> backingIndices = es.client().indices().get(g -> g.index(stream)).indices();
        assertThat(backingIndices).hasSize(1);
        String backing = backingIndices.keySet().iterator().next();
        assertThat(backingIndices.get(backing).dataStream()).isEqualTo(stream);
        Map<String, Property> props = es.client().indices().getMapping(m -> m.index(backing)).get(backing)
                .mappings().properties();
        assertThat(props.get(LogFields.URL).isKeyword()).isTrue();
        assertThat(props.get(LogFields.LATENCY_MS).isLong()).isTrue();
        assertThat(props.get(LogFields.COOLDOWN_UNTIL).isDate()).isTrue();
        long events = es.client().count(c -> c.index(stream).query(q -> q.term(t -> t.field(LogFields.EVENT)
                .value("cooldown")))).count();
        assertThat(events).isEqualTo(1);
    }

    /** A template of the data stream's name with a higher priority than ours, as an operator would install. */
    private static void installOperatorTemplate(ElasticsearchTestNode es, String stream, String meta,
                                                String templateExtra) throws IOException {
        String json = "{\"index_patterns\":[\"" + stream + "*\"],\"data_stream\":{},\"priority\":300," + meta
                + "\"template\":{\"settings\":{\"number_of_replicas\":0}" + templateExtra + "}}";
        es.client().indices().putIndexTemplate(t -> t.name(stream).withJson(new java.io.StringReader(json)));
    }

    @Test
    void keepsATemplateTheOperatorInstalled(ElasticsearchTestNode es) throws IOException {
        // given a template of the data stream's name already installed, e.g. by the setup script with ILM
        String stream = es.index("operator");
        installOperatorTemplate(es, stream, "\"_meta\":{\"installed_by\":\"operator\"},", "");

        // when the log starts and delivers
        try (ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(es.client()).withDataStream(stream)
                .withFlushInterval(Duration.ofMillis(100)).build()) {
            log.record(entry(0, "github", "gh-1", "miss"));
            await().atMost(Duration.ofSeconds(20)).until(() -> log.deliveredCount() == 1);
        }

        // then the operator's template is still the one in place
        var installed = es.client().indices().getIndexTemplate(t -> t.name(stream)).indexTemplates();
        assertThat(installed).singleElement().satisfies(t ->
                assertThat(t.indexTemplate().meta().get("installed_by").to(String.class)).isEqualTo("operator"));
    }

    @Test
    void documentsTheNodeRefusesAreDroppedCountedAndNamedWhileTheOthersAreDelivered(ElasticsearchTestNode es)
            throws IOException {
        // given an operator's template that maps "endpoint" as a number: a document naming an endpoint does not fit
        String stream = es.index("refused");
        installOperatorTemplate(es, stream, "", ",\"mappings\":{\"properties\":{\"endpoint\":{\"type\":\"long\"}}}");
        Logger logger = (Logger) LoggerFactory.getLogger(ElasticsearchRequestLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);

        // when entries of endpoint "github" (refused) and "42" (fits) go in the same bulks
        try (ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(es.client()).withDataStream(stream)
                .withFlushInterval(Duration.ofMillis(100)).build()) {
            for (int i = 0; i < 10; i++) {
                log.record(entry(i, i % 2 == 0 ? "github" : "42", "gh-1", "miss"));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> log.deliveredCount() + log.droppedCount() == 10);

            // then the refused are dropped, counted, not retried, and the log says why; the rest arrive
            assertThat(log.droppedCount()).isEqualTo(5);
            assertThat(log.deliveredCount()).isEqualTo(5);
            assertThat(log.bufferedCount()).isZero();
        } finally {
            logger.detachAppender(captured);
        }
        assertThat(count(es.client(), stream)).isEqualTo(5);
        assertThat(events(captured)).anySatisfy(e -> assertThat(e.getFormattedMessage() + e.getKeyValuePairs())
                .contains("rejected by elasticsearch").contains("exception"));
    }

    @Test
    void closeDeliversWhatIsStillBuffered(ElasticsearchTestNode es) throws IOException {
        // given a log that would not flush on its own for an hour
        String stream = es.index("close");
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(es.client()).withDataStream(stream)
                .withFlushInterval(Duration.ofHours(1)).withMaxBatch(10_000).build();
        for (int i = 0; i < 20; i++) {
            log.record(entry(i, "github", "gh-1", "miss"));
        }

        // when
        log.close();

        // then
        assertThat(log.deliveredCount()).isEqualTo(20);
        assertThat(count(es.client(), stream)).isEqualTo(20);
    }

    @Test
    void pastTheBoundDocumentsAreDroppedCountedAndReportedWithoutBlocking() throws IOException {
        // given a cluster address where nothing listens (loopback, refused at once)
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        ElasticsearchClient unreachable = ElasticsearchClients.create("http://127.0.0.1:" + deadPort);
        Logger logger = (Logger) LoggerFactory.getLogger(ElasticsearchRequestLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(unreachable).withDataStream("unreachable")
                .withBufferSize(10).withCloseTimeout(Duration.ZERO).build();
        try {
            // when
            for (int i = 0; i < 25; i++) {
                log.record(entry(i, "github", "gh-1", "miss"));
            }

            // then
            assertThat(log.droppedCount()).isEqualTo(15);
            assertThat(log.bufferedCount()).isEqualTo(10);
            assertThat(events(captured)).anySatisfy(e -> assertThat(e.getKeyValuePairs())
                    .anySatisfy(kv -> {
                        assertThat(kv.key).isEqualTo(LogFields.LOG_DOCUMENTS_DROPPED);
                        assertThat(kv.value).isEqualTo(1L);
                    }));
        } finally {
            log.close();
            logger.detachAppender(captured);
            ElasticsearchClients.close(unreachable);
        }
        assertThat(log.droppedCount()).isEqualTo(25);
    }

    @Test
    void usageHistoryReadsBackUsesPerEndpointAndSecret(ElasticsearchTestNode es) {
        // given: gh-1 used 3 times (one before the window), gh-2 once, a cache hit and an event that are no use
        String stream = es.index("usage");
        try (ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(es.client()).withDataStream(stream)
                .withFlushInterval(Duration.ofMillis(100)).build()) {
            log.record(entry(-3600, "github", "gh-1", "miss"));
            log.record(entry(1, "github", "gh-1", "miss"));
            log.record(entry(2, "github", "gh-1", "bypass"));
            log.record(entry(3, "github", "gh-2", "miss"));
            log.record(entry(4, "github", "gh-2", "hit"));
            log.record(entry(5, "search", "s-1", "miss"));
            log.record(new SecretEvent(T.plusSeconds(6), "test", "github", "gh-1", "key", SecretEvent.Type.BAN, null, null));
            await().atMost(Duration.ofSeconds(20)).until(() -> log.deliveredCount() == 7);
        }
        ElasticsearchUsageHistory history = ElasticsearchUsageHistory.builder(es.client()).withDataStream(stream)
                .withPageSize(2).build();
        await().atMost(Duration.ofSeconds(10)).until(() -> history.usesSince(T).size() == 3); // after a refresh

        // when
        List<SecretUsage> all = history.usesSince(T);
        List<SecretUsage> github = history.usesSince("github", T);

        // then
        assertThat(all).containsExactly(
                new SecretUsage("github", "gh-1", List.of(T.plusSeconds(1), T.plusSeconds(2))),
                new SecretUsage("github", "gh-2", List.of(T.plusSeconds(3))),
                new SecretUsage("search", "s-1", List.of(T.plusSeconds(5))));
        assertThat(github).extracting(SecretUsage::secretId).containsExactly("gh-1", "gh-2");
    }

    @Test
    void usageHistoryOfALogNeverWrittenIsEmpty(ElasticsearchTestNode es) {
        assertThat(ElasticsearchUsageHistory.builder(es.client()).withDataStream(es.index("never")).build()
                .usesSince(T)).isEmpty();
    }

    @Test
    void dropWarningRepeatsOnlyAfterTenSecondsOfTheInjectedClock() throws Exception {
        // given a log that cannot deliver, on a fake clock, whose buffer holds 2 documents
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        ElasticsearchClient unreachable = ElasticsearchClients.create("http://127.0.0.1:" + deadPort);
        Logger logger = (Logger) LoggerFactory.getLogger(ElasticsearchRequestLog.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        dev.proxymanager.middleware.clock.FakeClock clock = new dev.proxymanager.middleware.clock.FakeClock();
        ElasticsearchRequestLog log = ElasticsearchRequestLog.builder(unreachable).withDataStream("unreachable-clock")
                .withBufferSize(2).withCloseTimeout(Duration.ZERO).withClock(clock).build();
        try {
            // when documents are dropped, 9.999 s pass on the clock, more are dropped, then 10 s have passed
            for (int i = 0; i < 5; i++) {
                log.record(entry(i, "github", "gh-1", "miss"));
            }
            clock.advance(Duration.ofMillis(9_999));
            log.record(entry(5, "github", "gh-1", "miss"));
            long warningsBefore = dropWarnings(captured);
            clock.advance(Duration.ofMillis(1));
            log.record(entry(6, "github", "gh-1", "miss"));

            // then one warning for the first burst, and the next only once 10 s had passed
            assertThat(warningsBefore).isEqualTo(1);
            assertThat(dropWarnings(captured)).isEqualTo(2);
        } finally {
            log.close();
            logger.detachAppender(captured);
            ElasticsearchClients.close(unreachable);
        }
    }

    /** What the appender caught so far: the log's thread appends while a test reads (AppenderBase.doAppend locks it). */
    private static List<ILoggingEvent> events(ListAppender<ILoggingEvent> captured) {
        synchronized (captured) {
            return new ArrayList<>(captured.list);
        }
    }

    private static long dropWarnings(ListAppender<ILoggingEvent> captured) {
        return events(captured).stream().filter(e -> e.getKeyValuePairs() != null && e.getKeyValuePairs().stream()
                .anyMatch(kv -> kv.key.equals(LogFields.LOG_DOCUMENTS_DROPPED))).count();
    }
}
