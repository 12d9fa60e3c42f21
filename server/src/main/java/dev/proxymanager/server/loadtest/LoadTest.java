package dev.proxymanager.server.loadtest;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Seed E's load tester: {@code concurrent} virtual-thread workers send {@code totalRequests} GETs to one URL between
 * them, each with a per-request timeout, and the run reports success rate, throughput and latency percentiles.
 * A progress bar is drawn on the given stream while it runs. Build with {@link #builder(URI)}; one instance runs once
 * per {@link #run} call and is threadsafe.
 */
public final class LoadTest {

    private final URI url;
    private final int concurrent;
    private final int totalRequests;
    private final Duration timeout;
    private final Map<String, String> headers;

    private LoadTest(Builder b) {
        this.url = b.url;
        this.concurrent = b.concurrent;
        this.totalRequests = b.totalRequests;
        this.timeout = b.timeout;
        this.headers = Map.copyOf(b.headers);
    }

    /** A builder for a run against {@code url}. */
    public static Builder builder(URI url) {
        return new Builder(url);
    }

    /**
     * Runs the load and returns the report.
     *
     * @param progress where the progress bar goes, or {@code null} for none
     */
    public LoadTestReport run(PrintStream progress) throws InterruptedException {
        long[] latencies = new long[totalRequests];
        Arrays.fill(latencies, -1);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        AtomicLong maxNanos = new AtomicLong();
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
             ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            // a load test measures real elapsed time on purpose: it reports the server's actual throughput and latency
            long start = System.nanoTime();
            Thread bar = progress == null ? null : Thread.ofPlatform().daemon().start(() -> drawProgress(progress, done));
            for (int w = 0; w < concurrent; w++) {
                workers.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < totalRequests) {
                        HttpRequest.Builder rb = HttpRequest.newBuilder(url).timeout(timeout).GET();
                        headers.forEach(rb::header);
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<Void> r = client.send(rb.build(), HttpResponse.BodyHandlers.discarding());
                            statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                            if (r.statusCode() < 400) {
                                ok.incrementAndGet();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        } catch (Exception e) {
                            statuses.computeIfAbsent(0, k -> new AtomicInteger()).incrementAndGet();
                            errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger()).incrementAndGet();
                        }
                        long took = System.nanoTime() - t0;
                        latencies[i] = took;
                        maxNanos.accumulateAndGet(took, Math::max);
                        done.incrementAndGet();
                    }
                });
            }
            workers.shutdown();
            workers.awaitTermination(Long.MAX_VALUE, java.util.concurrent.TimeUnit.NANOSECONDS);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (bar != null) {
                bar.interrupt();
                bar.join();
                progress.println();
            }
            long[] sorted = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
            return new LoadTestReport(done.get(), ok.get(), elapsed, percentile(sorted, 0.50), percentile(sorted, 0.95),
                    percentile(sorted, 0.99), Duration.ofNanos(maxNanos.get()), counts(statuses), counts(errors));
        }
    }

    private void drawProgress(PrintStream out, AtomicInteger done) {
        int width = 40;
        while (true) {
            int d = done.get();
            int filled = (int) ((long) d * width / Math.max(1, totalRequests));
            out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + d + "/" + totalRequests);
            out.flush();
            if (d >= totalRequests) {
                return;
            }
            try {
                Thread.sleep(200); // redraw rate of the bar, not a test wait
            } catch (InterruptedException e) {
                int f = done.get();
                int full = (int) ((long) f * width / Math.max(1, totalRequests));
                out.print("\r[" + "#".repeat(full) + " ".repeat(width - full) + "] " + f + "/" + totalRequests);
                return;
            }
        }
    }

    private static Duration percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Duration.ZERO;
        }
        int idx = (int) Math.ceil(p * sorted.length) - 1;
        return Duration.ofNanos(sorted[Math.max(0, Math.min(sorted.length - 1, idx))]);
    }

    private static <K> Map<K, Integer> counts(Map<K, AtomicInteger> m) {
        Map<K, Integer> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Settings of a run; {@link #build()} validates them. Not threadsafe. */
    public static final class Builder {
        private final URI url;
        private int concurrent = 100;
        private int totalRequests = 1000;
        private Duration timeout = Duration.ofSeconds(30);
        private final java.util.LinkedHashMap<String, String> headers = new java.util.LinkedHashMap<>();

        private Builder(URI url) {
            this.url = Objects.requireNonNull(url, "url");
        }

        /** Parallel workers; default 100. */
        public Builder withConcurrent(int n) { this.concurrent = n; return this; }
        /** Requests in all; default 1000. */
        public Builder withTotalRequests(int n) { this.totalRequests = n; return this; }
        /** Per-request timeout; default 30 s. */
        public Builder withTimeout(Duration d) { this.timeout = d; return this; }
        /** A header sent with every request (e.g. Authorization). */
        public Builder withHeader(String name, String value) { headers.put(name, value); return this; }

        /**
         * @throws IllegalArgumentException naming the option that is out of range
         */
        public LoadTest build() {
            String scheme = url.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme)) {
                throw new IllegalArgumentException("--url must be an http(s) URL, was " + url);
            }
            if (concurrent <= 0) {
                throw new IllegalArgumentException("--concurrent must be > 0, was " + concurrent);
            }
            if (totalRequests <= 0) {
                throw new IllegalArgumentException("--total-requests must be > 0, was " + totalRequests);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("--timeout must be > 0, was " + timeout);
            }
            return new LoadTest(this);
        }
    }
}
