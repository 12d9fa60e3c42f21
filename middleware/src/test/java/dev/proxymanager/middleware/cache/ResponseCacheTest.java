package dev.proxymanager.middleware.cache;

import dev.proxymanager.middleware.clock.FakeClock;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ResponseCacheTest {
    private final FakeClock clock = new FakeClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final InMemoryCacheStore store = new InMemoryCacheStore();
    private final CachePolicy policy = CachePolicy.builder().withTtl(Duration.ofMinutes(10))
            .withStaleIfError(Duration.ofMinutes(5)).build();
    private final AtomicInteger upstreamCalls = new AtomicInteger();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private ResponseCache cache(ResponseCache.Builder b) {
        ResponseCache c = b.withClock(clock).build();
        toClose.add(c);
        return c;
    }

    private ResponseCache cache() {
        // writes run inline so a test sees the entry as soon as fetch returns
        return cache(ResponseCache.builder(store).withWriteExecutor(Runnable::run));
    }

    private static CacheKey key(String method, String path) {
        return CacheKey.builder(method, "https://api.example.com" + path).withEndpoint("example").build();
    }

    private Upstream upstream(int status, String body) {
        return () -> {
            upstreamCalls.incrementAndGet();
            return CachedResponse.of(status, Map.of(), body.getBytes(StandardCharsets.UTF_8), "text/plain");
        };
    }

    private static String text(CacheResult r) {
        return new String(r.response().body(), StandardCharsets.UTF_8);
    }

    @Test
    void servesAFreshEntryWithoutCallingTheUpstream() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "first"));

        CacheResult second = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "second"));

        assertThat(second.status()).isEqualTo(CacheStatus.HIT);
        assertThat(second.fromCache()).isTrue();
        assertThat(text(second)).isEqualTo("first");
        assertThat(upstreamCalls).hasValue(1);
        assertThat(cache.stats().hits()).isEqualTo(1);
        assertThat(cache.stats().misses()).isEqualTo(1);
    }

    @Test
    void storesNothingTheCallerSaysIsNotAnAnswer() throws IOException {
        // given a 200 the caller knows to be a ban page (its body matched ban_body_pattern)
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "captcha"), response -> false);

        // when the same request comes again
        CacheResult second = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "real answer"));

        // then the ban page was not stored: the upstream answered again
        assertThat(store.get(key("GET", "/a").id())).isPresent();
        assertThat(second.status()).isEqualTo(CacheStatus.MISS);
        assertThat(text(second)).isEqualTo("real answer");
        assertThat(upstreamCalls).hasValue(2);
    }

    @Test
    void neverServesAnExpiredEntryAsFresh() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "old"));

        clock.advance(Duration.ofMinutes(10)); // exactly at expiry: no longer fresh
        CacheResult r = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "new"));

        assertThat(r.status()).isEqualTo(CacheStatus.MISS);
        assertThat(text(r)).isEqualTo("new");
        assertThat(store.get(key("GET", "/a").id()).orElseThrow().expiresAt())
                .contains(clock.now().plus(Duration.ofMinutes(10)));
    }

    @Test
    void servesAStaleEntryWhenTheUpstreamFailsWithinStaleIfError() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "kept"));
        clock.advance(Duration.ofMinutes(14));

        CacheResult failed = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, () -> {
            throw new ConnectException("refused");
        });
        CacheResult error5xx = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(503, "down"));

        assertThat(failed.status()).isEqualTo(CacheStatus.STALE);
        assertThat(text(failed)).isEqualTo("kept");
        assertThat(error5xx.status()).isEqualTo(CacheStatus.STALE);
        assertThat(cache.stats().staleServed()).isEqualTo(2);
    }

    @Test
    void rethrowsTheUpstreamErrorOnceTheStaleWindowHasPassed() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "kept"));
        clock.advance(Duration.ofMinutes(15));

        assertThatThrownBy(() -> cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, () -> {
            throw new ConnectException("refused");
        })).isInstanceOf(ConnectException.class).hasMessage("refused");
    }

    @Test
    void withoutStaleIfErrorAnUpstream5xxIsPassedThrough() throws IOException {
        CachePolicy noStale = CachePolicy.builder().withTtl(Duration.ofMinutes(1)).build();
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), noStale, CacheMode.NORMAL, upstream(200, "kept"));
        clock.advance(Duration.ofMinutes(2));

        CacheResult r = cache.fetch(key("GET", "/a"), noStale, CacheMode.NORMAL, upstream(502, "bad gateway"));

        assertThat(r.status()).isEqualTo(CacheStatus.MISS);
        assertThat(r.response().status()).isEqualTo(502);
    }

    @Test
    void bypassNeitherReadsNorWrites() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "stored"));

        CacheResult r = cache.fetch(key("GET", "/a"), policy, CacheMode.BYPASS, upstream(200, "bypassed"));

        assertThat(r.status()).isEqualTo(CacheStatus.BYPASS);
        assertThat(text(r)).isEqualTo("bypassed");
        assertThat(new String(store.get(key("GET", "/a").id()).orElseThrow().body(), StandardCharsets.UTF_8))
                .isEqualTo("stored");
    }

    @Test
    void refreshCallsTheUpstreamAndReplacesTheEntry() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "v1"));

        CacheResult refreshed = cache.fetch(key("GET", "/a"), policy, CacheMode.REFRESH, upstream(200, "v2"));
        CacheResult after = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "v3"));

        assertThat(refreshed.status()).isEqualTo(CacheStatus.MISS);
        assertThat(text(after)).isEqualTo("v2");
        assertThat(after.status()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void requestCacheControlChoosesTheMode() {
        assertThat(CacheMode.fromRequestCacheControl("no-store")).isEqualTo(CacheMode.BYPASS);
        assertThat(CacheMode.fromRequestCacheControl("max-age=0, No-Cache")).isEqualTo(CacheMode.REFRESH);
        assertThat(CacheMode.fromRequestCacheControl(null)).isEqualTo(CacheMode.NORMAL);
    }

    @Test
    void doesNotStoreAResponseMarkedNoStore() throws IOException {
        ResponseCache cache = cache();

        cache.fetch(key("GET", "/private"), policy, CacheMode.NORMAL, () -> CachedResponse.of(200,
                Map.of("Cache-Control", List.of("private, no-store")), new byte[0], null));

        assertThat(store.size()).isZero();
    }

    @Test
    void aBodyAboveTheSizeLimitIsAnsweredButNotStored() throws IOException {
        // given a cache that stores bodies of at most 10 bytes
        ResponseCache cache = cache(ResponseCache.builder(store).withWriteExecutor(Runnable::run).withMaxBodyBytes(10));

        // when a 10-byte and an 11-byte response pass
        CacheResult fits = cache.fetch(key("GET", "/ten"), policy, CacheMode.NORMAL, upstream(200, "0123456789"));
        CacheResult large = cache.fetch(key("GET", "/eleven"), policy, CacheMode.NORMAL, upstream(200, "0123456789A"));

        // then both reach the caller, and only the first is stored
        assertThat(text(fits)).isEqualTo("0123456789");
        assertThat(text(large)).isEqualTo("0123456789A");
        assertThat(store.size()).isEqualTo(1);
    }

    @Test
    void storesOnlyStatusesAndMethodsThePolicyAllows() throws IOException {
        ResponseCache cache = cache();

        cache.fetch(key("GET", "/missing"), policy, CacheMode.NORMAL, upstream(404, "not found"));
        CacheResult post = cache.fetch(key("POST", "/create"), policy, CacheMode.NORMAL, upstream(200, "created"));
        CacheResult disabled = cache.fetch(key("GET", "/x"), CachePolicy.DISABLED, CacheMode.NORMAL,
                upstream(200, "x"));

        assertThat(store.size()).isZero();
        assertThat(post.status()).isEqualTo(CacheStatus.BYPASS);
        assertThat(disabled.status()).isEqualTo(CacheStatus.BYPASS);
    }

    @Test
    void postIsCachedWhenThePolicyOptsIn() throws IOException {
        CachePolicy withPost = CachePolicy.builder().withMethods(Set.of("GET", "POST")).build();
        ResponseCache cache = cache();
        cache.fetch(key("POST", "/search"), withPost, CacheMode.NORMAL, upstream(200, "results"));

        CacheResult again = cache.fetch(key("POST", "/search"), withPost, CacheMode.NORMAL, upstream(200, "other"));

        assertThat(again.status()).isEqualTo(CacheStatus.HIT);
    }

    @Test
    void concurrentIdenticalMissesMakeOneUpstreamCall() throws Exception {
        // given an upstream that holds its answer until every caller is waiting
        ResponseCache cache = cache(ResponseCache.builder(store));
        int callers = 8;
        CountDownLatch release = new CountDownLatch(1);
        Upstream slow = () -> {
            upstreamCalls.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CachedResponse.of(200, Map.of(), "shared".getBytes(StandardCharsets.UTF_8), "text/plain");
        };
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<CacheResult>> results = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                results.add(pool.submit(() -> cache.fetch(key("GET", "/hot"), policy, CacheMode.NORMAL, slow)));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> upstreamCalls.get() == 1);

            // when the one call answers
            release.countDown();

            // then every caller gets its response, and the upstream saw a single call
            List<CacheStatus> statuses = new ArrayList<>();
            for (Future<CacheResult> f : results) {
                CacheResult r = f.get(5, TimeUnit.SECONDS);
                assertThat(text(r)).isEqualTo("shared");
                statuses.add(r.status());
            }
            assertThat(upstreamCalls).hasValue(1);
            assertThat(statuses).containsOnlyOnce(CacheStatus.MISS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWaitingCallerGivesUpAfterTheBoundedWaitAndCallsTheUpstreamItself() throws Exception {
        ResponseCache cache = cache(ResponseCache.builder(store).withSingleFlightTimeout(Duration.ofMillis(50)));
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<CacheResult> leader = pool.submit(() -> cache.fetch(key("GET", "/slow"), policy, CacheMode.NORMAL,
                    () -> {
                        upstreamCalls.incrementAndGet();
                        try {
                            release.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return CachedResponse.of(200, Map.of(), new byte[0], null);
                    }));
            await().atMost(Duration.ofSeconds(5)).until(() -> upstreamCalls.get() == 1);

            CacheResult follower = cache.fetch(key("GET", "/slow"), policy, CacheMode.NORMAL, upstream(200, "own"));

            assertThat(text(follower)).isEqualTo("own");
            assertThat(cache.stats().singleFlightTimeouts()).isEqualTo(1);
            release.countDown();
            assertThat(leader.get(5, TimeUnit.SECONDS).status()).isEqualTo(CacheStatus.MISS);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void theResponseReturnsBeforeTheStoreWriteCompletes() throws Exception {
        // given a store whose writes hang until released
        CountDownLatch writesMayProceed = new CountDownLatch(1);
        CacheStore slowWrites = new ForwardingStore(store) {
            @Override
            public void put(CacheKey key, CachedResponse response) {
                try {
                    writesMayProceed.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.put(key, response);
            }
        };
        ResponseCache cache = cache(ResponseCache.builder(slowWrites));

        // when
        CacheResult r = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "fast"));

        // then the caller already has its answer while the write still waits
        assertThat(text(r)).isEqualTo("fast");
        assertThat(store.size()).isZero();
        writesMayProceed.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> store.size() == 1);
    }

    @Test
    void aFailingStoreIsAMissCountedAndSkippedUntilTheRetryInterval() throws IOException {
        AtomicInteger storeCalls = new AtomicInteger();
        CacheStore broken = new ForwardingStore(store) {
            @Override
            public Optional<CachedResponse> get(String id) {
                storeCalls.incrementAndGet();
                throw new CacheStoreException("connection refused");
            }
        };
        ResponseCache cache = cache(ResponseCache.builder(broken).withWriteExecutor(Runnable::run)
                .withStoreRetryInterval(Duration.ofSeconds(30)));

        CacheResult first = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "ok"));
        CacheResult second = cache.fetch(key("GET", "/b"), policy, CacheMode.NORMAL, upstream(200, "ok"));

        assertThat(first.status()).isEqualTo(CacheStatus.MISS);
        assertThat(second.status()).isEqualTo(CacheStatus.MISS);
        assertThat(storeCalls).hasValue(1);
        assertThat(cache.stats().storeErrors()).isEqualTo(1);
        assertThat(cache.stats().storeAvailable()).isFalse();

        clock.advance(Duration.ofSeconds(30));
        cache.fetch(key("GET", "/c"), policy, CacheMode.NORMAL, upstream(200, "ok"));
        assertThat(storeCalls).hasValue(2);
    }

    @Test
    void anUnreadableEntryIsAMissCountedAndNeverServed() throws IOException {
        CacheStore corrupt = new ForwardingStore(store) {
            @Override
            public Optional<CachedResponse> get(String id) {
                throw new CorruptCacheEntryException(id, "response.status must be an integer", null);
            }
        };
        ResponseCache cache = cache(ResponseCache.builder(corrupt).withWriteExecutor(Runnable::run));

        CacheResult r = cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "from upstream"));

        assertThat(r.status()).isEqualTo(CacheStatus.MISS);
        assertThat(text(r)).isEqualTo("from upstream");
        assertThat(cache.stats().corruptEntries()).isEqualTo(1);
        assertThat(cache.stats().storeAvailable()).isTrue();
    }

    @Test
    void purgeKeepsEntriesStillWithinTheStaleGrace() throws IOException {
        ResponseCache cache = cache();
        cache.fetch(key("GET", "/a"), policy, CacheMode.NORMAL, upstream(200, "a"));
        clock.advance(Duration.ofMinutes(12));

        assertThat(cache.purgeExpired(Duration.ofMinutes(5))).isZero();
        clock.advance(Duration.ofMinutes(4));
        assertThat(cache.purgeExpired(Duration.ofMinutes(5))).isEqualTo(1);
    }

    /** Delegates everything to another store; tests override one method to inject a fault. */
    static class ForwardingStore implements CacheStore {
        private final CacheStore delegate;

        ForwardingStore(CacheStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<CachedResponse> get(String id) {
            return delegate.get(id);
        }

        @Override
        public void put(CacheKey key, CachedResponse response) {
            delegate.put(key, response);
        }

        @Override
        public void delete(String id) {
            delegate.delete(id);
        }

        @Override
        public long purgeExpiredBefore(Instant cutoff) {
            return delegate.purgeExpiredBefore(cutoff);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
