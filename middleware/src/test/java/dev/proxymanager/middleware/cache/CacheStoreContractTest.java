package dev.proxymanager.middleware.cache;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The behaviour every {@link CacheStore} must have; one subclass per implementation. */
abstract class CacheStoreContractTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123Z");

    CacheStore store;

    /** A fresh, empty store. */
    abstract CacheStore createStore() throws Exception;

    @BeforeEach
    void setUpStore() throws Exception {
        store = createStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static CacheKey key(String path) {
        return CacheKey.builder("GET", "https://api.example.com" + path).withEndpoint("example").build();
    }

    static CachedResponse json(String body, Instant created, Duration ttl) {
        return CachedResponse.of(200, Map.of("Content-Type", List.of("application/json"), "ETag", List.of("\"x\"")),
                body.getBytes(StandardCharsets.UTF_8), "application/json").withTimes(created, created.plus(ttl));
    }

    @Test
    void returnsNothingForAnUnknownId() {
        assertThat(store.get(key("/unknown").id())).isEmpty();
    }

    @Test
    void returnsAStoredTextResponseWithItsTimes() {
        // given
        CacheKey k = key("/repos");
        CachedResponse r = json("{\"name\":\"proxy\"}", T0, Duration.ofHours(1));

        // when
        store.put(k, r);

        // then
        CachedResponse back = store.get(k.id()).orElseThrow();
        assertThat(back).isEqualTo(r);
        assertThat(back.header("etag")).contains("\"x\"");
        assertThat(back.expiresAt()).contains(T0.plus(Duration.ofHours(1)));
    }

    @Test
    void keepsABinaryBodyByteForByte() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, (byte) 0xff, (byte) 0xfe};
        CacheKey k = key("/logo.png");
        CachedResponse r = CachedResponse.of(200, Map.of(), png, "image/png").withTimes(T0, T0.plusSeconds(60));

        store.put(k, r);

        assertThat(store.get(k.id()).orElseThrow().body()).containsExactly(png);
    }

    @Test
    void keepsAnEmptyBodyAndNoContentType() {
        CacheKey k = key("/empty");
        CachedResponse r = CachedResponse.of(204, Map.of(), new byte[0], null).withTimes(T0, T0.plusSeconds(60));

        store.put(k, r);

        CachedResponse back = store.get(k.id()).orElseThrow();
        assertThat(back.status()).isEqualTo(204);
        assertThat(back.bodyLength()).isZero();
        assertThat(back.contentType()).isEmpty();
    }

    @Test
    void aSecondPutReplacesTheEntry() {
        CacheKey k = key("/replace");
        store.put(k, json("{\"v\":1}", T0, Duration.ofMinutes(1)));

        store.put(k, json("{\"v\":2}", T0.plusSeconds(5), Duration.ofMinutes(1)));

        assertThat(new String(store.get(k.id()).orElseThrow().body(), StandardCharsets.UTF_8)).isEqualTo("{\"v\":2}");
    }

    @Test
    void returnsExpiredEntriesForTheCacheToJudge() {
        CacheKey k = key("/old");
        store.put(k, json("{}", T0.minus(Duration.ofDays(2)), Duration.ofHours(1)));

        assertThat(store.get(k.id())).isPresent();
    }

    @Test
    void deleteRemovesTheEntryAndIgnoresUnknownIds() {
        CacheKey k = key("/gone");
        store.put(k, json("{}", T0, Duration.ofMinutes(1)));

        store.delete(k.id());
        store.delete(key("/never-stored").id());

        assertThat(store.get(k.id())).isEmpty();
    }

    @Test
    void purgeRemovesOnlyEntriesExpiredBeforeTheCutoff() {
        // given 3 expired and 2 live entries
        for (int i = 0; i < 3; i++) {
            store.put(key("/expired/" + i), json("{}", T0.minus(Duration.ofHours(2)), Duration.ofHours(1)));
        }
        store.put(key("/live/1"), json("{}", T0, Duration.ofHours(1)));
        store.put(key("/live/2"), json("{}", T0, Duration.ofHours(1)));

        // when
        long purged = store.purgeExpiredBefore(T0);

        // then
        assertThat(purged).isEqualTo(3);
        assertThat(store.get(key("/expired/0").id())).isEmpty();
        assertThat(store.get(key("/live/1").id())).isPresent();
        assertThat(store.get(key("/live/2").id())).isPresent();
    }

    @Test
    void rejectsAResponseWithoutTimes() {
        CachedResponse untimed = CachedResponse.of(200, Map.of(), new byte[0], null);

        assertThatThrownBy(() -> store.put(key("/x"), untimed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("withTimes");
    }
}
