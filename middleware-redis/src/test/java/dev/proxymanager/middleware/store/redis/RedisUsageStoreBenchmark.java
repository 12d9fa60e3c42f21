package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageLimit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Throughput of acquire+release through {@link RedisUsageStore} from one JVM with many threads (one shared Lettuce
 * connection, pipelined). Run by {@code middleware-redis/src/test/bench/redis-usage-store.sh}, which also runs
 * {@code redis-benchmark} with {@code EVALSHA} of a trivial script against the same server for comparison.
 *
 * <pre>java ... RedisUsageStoreBenchmark redis://127.0.0.1:6379 [seconds=10] [threads=64] [secrets=1000]</pre>
 *
 * Each pair is an acquire of one secret (limit 100 requests/s, up to 4 lease holders) and the release of its lease:
 * two round trips, two script calls. A warm-up as long as the measured run comes first.
 */
public final class RedisUsageStoreBenchmark {
    /**
     * The callers are virtual threads, as the server's request handlers are; {@code -Dbench.virtual=false} makes them
     * platform threads.
     */
    private static final boolean VIRTUAL = !"false".equals(System.getProperty("bench.virtual"));

    public static void main(String[] args) throws Exception {
        String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int secrets = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        Clock clock = Clock.system();
        StoreCandidate[] candidates = new StoreCandidate[secrets];
        for (int i = 0; i < secrets; i++) {
            candidates[i] = new StoreCandidate("s" + i, List.of(new UsageLimit(100, 1_000_000_000L, 0)));
        }
        LeaseTerms terms = new LeaseTerms(4, 60_000_000_000L);
        try (RedisUsageStore store = RedisUsageStore.builder(uri).build()) {
            // warm-up (connection, script load, JIT) as long as the run: on a loaded machine C2 takes many seconds
            run(store, clock, candidates, terms, threads, Math.max(5, seconds), null);
            long[] latencies = new long[threads * 200_000];
            AtomicLong latencyCount = new AtomicLong();
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean();
            long cpuBefore = os.getProcessCpuTime();
            Result r = run(store, clock, candidates, terms, threads, seconds, new Sink(latencies, latencyCount));
            long cpu = os.getProcessCpuTime() - cpuBefore;
            int n = (int) Math.min(latencyCount.get(), latencies.length);
            long[] sorted = Arrays.copyOf(latencies, n);
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "threads=%d (%s) secrets=%d seconds=%d%n", threads,
                    VIRTUAL ? "virtual" : "platform", secrets, seconds);
            System.out.printf(Locale.ROOT, "acquire+release pairs/s: %.0f (granted %.1f %%)%n", r.pairs / r.seconds,
                    100.0 * r.granted / r.pairs);
            System.out.printf(Locale.ROOT, "store calls/s (FCALL or EVALSHA round trips): %.0f%n", r.calls / r.seconds);
            System.out.printf(Locale.ROOT, "pair latency ms: p50 %.2f, p99 %.2f%n", sorted[n / 2] / 1e6,
                    sorted[(int) (n * 0.99)] / 1e6);
            System.out.printf(Locale.ROOT, "client JVM CPU per store call: %.1f us%n", cpu / 1e3 / r.calls);
        }
        System.exit(0);
    }

    private record Result(double pairs, double calls, double granted, double seconds) {
    }

    private record Sink(long[] latencies, AtomicLong count) {
        void add(long nanos) {
            long i = count.getAndIncrement();
            if (i < latencies.length) {
                latencies[(int) i] = nanos;
            }
        }
    }

    private static Result run(RedisUsageStore store, Clock clock, StoreCandidate[] candidates, LeaseTerms terms,
                              int threads, int seconds, Sink sink) throws InterruptedException {
        LongAdder pairs = new LongAdder();
        LongAdder calls = new LongAdder();
        LongAdder granted = new LongAdder();
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Runnable work = () -> {
                StoreCandidate[] one = new StoreCandidate[1];
                while (System.nanoTime() < end) {
                    long op = next.incrementAndGet();
                    one[0] = candidates[(int) (op % candidates.length)];
                    String leaseId = "bench-" + op;
                    long t0 = System.nanoTime();
                    StoreDecision d = store.acquire("bench", one, 1, terms, leaseId, clock.nanoTime());
                    calls.increment();
                    if (d.isGranted()) {
                        granted.increment();
                        store.release("bench", one[0], terms, leaseId, clock.nanoTime(), 0, false);
                        calls.increment();
                    }
                    pairs.increment();
                    if (sink != null) {
                        sink.add(System.nanoTime() - t0);
                    }
                }
            };
            // virtual threads are how the server calls the store (Jetty runs each request on one)
            Thread w = VIRTUAL ? Thread.ofVirtual().name("bench-" + t).start(work)
                    : Thread.ofPlatform().name("bench-" + t).start(work);
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Result(pairs.sum(), calls.sum(), granted.sum(), elapsed);
    }

    private RedisUsageStoreBenchmark() {
    }
}
