package dev.proxymanager.middleware.store.redis;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several engines in separate JVMs ({@link UpstreamLimitWorker}) share one Redis and send as fast as they are let to a
 * loopback upstream that enforces "{@code requests} per key in any {@code window}" itself, by the time requests
 * arrive, and answers 429 over it as a real API does. Reports the upstream's count of violations (requests it
 * refused), the capacity delivered (200s against keys x requests per window over the load) and the delay between
 * grant and write. Used by {@code UpstreamLimitTest} (CI) and {@code upstream-limits.sh} (benchmark):
 * {@code UpstreamLimitRun <redisUri> <seconds> <limit_margin> [processes] [threads]}.
 */
public final class UpstreamLimitRun {

    /** What one run does. */
    record Settings(int keys, int requests, Duration window, String margin, int processes, int threadsPerProcess,
                    Duration load) {
        /** What the upstream lets through over the load: its sustained rate times the load's length. */
        long theoretical() {
            return (long) keys * requests * load.toMillis() / window.toMillis();
        }
    }

    /** What one run measured; delays in milliseconds. */
    record Report(Settings settings, long delivered, long violations, long failed, long granted, double[] grantToWrite,
                  double[] useToWrite, List<String> workerOutput) {

        double capacityPercent() {
            return 100.0 * delivered / settings.theoretical();
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "margin=%s keys=%d limit=%d/%d ms processes=%d x %d threads, "
                            + "load %d s: delivered %d of %d (%.1f %%), violations %d, failed %d, granted %d; "
                            + "grant-to-write ms p50 %.2f p99 %.2f p99.9 %.2f max %.2f; "
                            + "use-to-write (after re-stamp) ms p50 %.2f p99 %.2f p99.9 %.2f max %.2f",
                    settings.margin, settings.keys, settings.requests, settings.window.toMillis(), settings.processes,
                    settings.threadsPerProcess, settings.load.toSeconds(), delivered, settings.theoretical(),
                    capacityPercent(), violations, failed, granted, grantToWrite[0], grantToWrite[1], grantToWrite[2],
                    grantToWrite[3], useToWrite[0], useToWrite[1], useToWrite[2], useToWrite[3]);
        }
    }

    private UpstreamLimitRun() {
    }

    public static void main(String[] args) throws Exception {
        Settings s = new Settings(5, 20, Duration.ofSeconds(2), args[2],
                args.length > 3 ? Integer.parseInt(args[3]) : 3, args.length > 4 ? Integer.parseInt(args[4]) : 8,
                Duration.ofSeconds(Long.parseLong(args[1])));
        System.out.println(run(args[0], s));
    }

    static Report run(String redisUri, Settings s) throws Exception {
        Upstream upstream = new Upstream(s.requests, s.window.toNanos());
        List<ChildJvm> workers = new ArrayList<>();
        try {
            String url = "http://127.0.0.1:" + upstream.server.getAddress().getPort() + "/";
            for (int i = 0; i < s.processes; i++) {
                workers.add(ChildJvm.start(UpstreamLimitWorker.class, List.of("-Xmx256m", "-XX:+UseSerialGC"), redisUri,
                        url, Long.toString(s.load.toMillis()),
                        Integer.toString(s.threadsPerProcess), Integer.toString(s.keys), Integer.toString(s.requests),
                        Long.toString(s.window.toMillis()), s.margin));
            }
            for (ChildJvm w : workers) {
                w.awaitLine("READY", Duration.ofSeconds(60));
            }
            for (ChildJvm w : workers) {
                w.tell("GO");
            }
            long granted = 0;
            long failed = 0;
            List<Long> gtw = new ArrayList<>();
            List<Long> utw = new ArrayList<>();
            List<String> output = new ArrayList<>();
            for (ChildJvm w : workers) {
                String done = w.awaitLine("DONE", s.load.plusSeconds(30));
                w.process.waitFor(30, TimeUnit.SECONDS);
                for (String part : done.split(" ")) {
                    if (part.startsWith("granted=")) {
                        granted += Long.parseLong(part.substring(8));
                    } else if (part.startsWith("failed=")) {
                        failed += Long.parseLong(part.substring(7));
                    }
                }
                gtw.addAll(w.numbers("GTW "));
                utw.addAll(w.numbers("UTW "));
                output.add(String.join("\n", w.lines.stream()
                        .filter(l -> !l.startsWith("GTW") && !l.startsWith("UTW")).toList()));
            }
            return new Report(s, upstream.accepted.get(), upstream.refused.get(), failed, granted, percentiles(gtw),
                    percentiles(utw), output);
        } finally {
            workers.forEach(w -> w.process.destroyForcibly());
            upstream.close();
        }
    }

    /** p50, p99, p99.9 and max of microsecond values, in milliseconds. */
    private static double[] percentiles(List<Long> micros) {
        if (micros.isEmpty()) {
            return new double[4];
        }
        long[] v = micros.stream().mapToLong(Long::longValue).sorted().toArray();
        return new double[] {at(v, 0.50), at(v, 0.99), at(v, 0.999), v[v.length - 1] / 1000.0};
    }

    private static double at(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1000.0;
    }

    /**
     * The API: at most {@code requests} accepted per key in any window, by the time each request reaches the
     * handler; over it, 429 with Retry-After, counted as a violation.
     */
    private static final class Upstream implements AutoCloseable {
        final HttpServer server;
        final AtomicLong accepted = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        private final Map<String, ArrayDeque<Long>> arrivals = new HashMap<>();

        Upstream(int requests, long windowNanos) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 256);
            server.setExecutor(Executors.newFixedThreadPool(16));
            server.createContext("/lim", exchange -> {
                long at = System.nanoTime();
                String key = String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"));
                boolean over;
                synchronized (arrivals) {
                    ArrayDeque<Long> times = arrivals.computeIfAbsent(key, k -> new ArrayDeque<>());
                    while (!times.isEmpty() && times.peekFirst() <= at - windowNanos) {
                        times.pollFirst();
                    }
                    over = times.size() >= requests;
                    if (!over) {
                        times.addLast(at);
                    }
                }
                if (over) {
                    refused.incrementAndGet();
                    exchange.getResponseHeaders().set("Retry-After", "1");
                    exchange.sendResponseHeaders(429, -1);
                } else {
                    accepted.incrementAndGet();
                    exchange.sendResponseHeaders(200, -1);
                }
                exchange.close();
            });
            server.createContext("/warm", exchange -> {
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
        }

        @Override
        public void close() {
            server.stop(0);
            ((ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
