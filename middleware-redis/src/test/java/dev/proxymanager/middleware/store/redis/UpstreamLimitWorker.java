package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.http.HttpHeaders;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.cache.CachedResponse;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.Sleeper;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.rotation.UseStamp;
import dev.proxymanager.middleware.store.UsageStoreUnavailableException;
import dev.proxymanager.middleware.transport.HttpTransport;
import dev.proxymanager.middleware.transport.TransportRequest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One process of {@link UpstreamLimitRun}: an engine on the shared Redis sending through {@link HttpTransport} with
 * a {@link UseStamp}, as the library's dispatcher does, to an upstream that enforces the limits itself.
 *
 * <pre>
 * &lt;redisUri&gt; &lt;upstreamUrl&gt; &lt;millis&gt; &lt;threads&gt; &lt;keys&gt; &lt;requests&gt; &lt;windowMillis&gt; &lt;limit_margin&gt;
 * </pre>
 * Prints {@code READY} when warmed up, starts on {@code GO} from its standard input, and at the end prints
 * {@code DONE ok=.. limited=.. failed=.. granted=..}, then {@code GTW} (grant to write) and {@code UTW} (recorded use
 * to write) delays in microseconds.
 */
public final class UpstreamLimitWorker {

    static EndpointConfig endpoint(URI upstream, int keys, int requests, Duration window, LimitMargin margin) {
        EndpointConfig.Builder b = EndpointConfig.builder("lim", SecretType.KEY).withBaseUrl(upstream)
                .withLimit(LimitConfig.of(requests, window)).withLimitMargin(margin);
        for (int i = 1; i <= keys; i++) {
            b.withSecret("k" + i, "key-value-" + i);
        }
        return b.build();
    }

    public static void main(String[] args) throws Exception {
        String redisUri = args[0];
        URI upstream = URI.create(args[1]);
        long millis = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        EndpointConfig lim = endpoint(upstream, Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                Duration.ofMillis(Long.parseLong(args[6])), LimitMargin.parse(args[7]));
        EndpointConfig warm = EndpointConfig.builder("warm", SecretType.KEY).withBaseUrl(upstream)
                .withSecret("warm", "key-value-warm").build();
        // a loaded machine can stall a process for more than the default second; the limits are what is measured
        RedisUsageStore store = RedisUsageStore.builder(redisUri).withCommandTimeout(Duration.ofSeconds(10)).build();
        RotationEngine engine = RotationEngine.builder().withStore(store).withEndpoint(lim).withEndpoint(warm).build();
        HttpTransport transport = HttpTransport.builder().build();
        Clock clock = engine.clock();
        TransportRequest warmRequest = new TransportRequest("GET", upstream.resolve("/warm"), HttpHeaders.empty(), null, null);
        TransportRequest request = new TransportRequest("GET", upstream.resolve("/lim"), HttpHeaders.empty(), null, null);

        List<Thread> warmers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (int i = 0; i < 100; i++) {
                    if (engine.acquire("warm") instanceof AcquireResult.Granted g) {
                        send(transport, warmRequest, engine, g.lease(), warm, null);
                    }
                }
            });
            w.start();
            warmers.add(w);
        }
        for (Thread w : warmers) {
            w.join();
        }
        System.out.println("READY");
        String go = new BufferedReader(new InputStreamReader(System.in)).readLine();
        if (!"GO".equals(go)) {
            System.out.println("NO GO: " + go);
            System.exit(3);
        }
        AtomicLong granted = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        AtomicLong limited = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ConcurrentLinkedQueue<Long> grantToWrite = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> useToWrite = new ConcurrentLinkedQueue<>();
        long end = System.nanoTime() + Duration.ofMillis(millis).toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                while (System.nanoTime() < end) {
                    try {
                        AcquireResult r = engine.acquire("lim");
                        if (r instanceof AcquireResult.Granted g) {
                            granted.incrementAndGet();
                            SecretLease lease = g.lease();
                            UseStamp stamp = new UseStamp(engine, lease, Sleeper.system(), Duration.ofSeconds(10));
                            int status = send(transport, request, engine, lease, lim, () -> {
                                long before = clock.nanoTime();
                                stamp.beforeWrite();
                                long after = clock.nanoTime();
                                grantToWrite.add((before - lease.acquiredAtNanos()) / 1000);
                                useToWrite.add((after - stamp.usedAt()) / 1000);
                            });
                            (status == 200 ? ok : status == 429 ? limited : failed).incrementAndGet();
                        } else if (r instanceof AcquireResult.Denied d) {
                            // back off as a client would: until the next secret frees, at most 20 ms
                            LockSupport.parkNanos(Math.min(d.retryAfter().toNanos(), 20_000_000L) + 1_000_000L);
                        }
                    } catch (UsageStoreUnavailableException e) {
                        failed.incrementAndGet();
                        LockSupport.parkNanos(20_000_000L);
                    }
                }
            }, "client-" + t);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        System.out.println("DONE ok=" + ok + " limited=" + limited + " failed=" + failed + " granted=" + granted);
        System.out.println("GTW " + joined(grantToWrite));
        System.out.println("UTW " + joined(useToWrite));
        transport.close();
        store.close();
        System.exit(0);
    }

    /** Sends and releases with the outcome; the status, or -1 when the exchange failed. */
    private static int send(HttpTransport transport, TransportRequest request, RotationEngine engine,
                            SecretLease lease, EndpointConfig endpoint,
                            dev.proxymanager.middleware.transport.UseRestamp restamp) {
        try {
            CachedResponse r = transport.execute(request, lease, endpoint, Duration.ofSeconds(10), restamp);
            engine.release(lease, Outcome.status(r.status()));
            return r.status();
        } catch (IOException e) {
            engine.release(lease, Outcome.connectionError());
            return -1;
        }
    }

    private static String joined(Iterable<Long> values) {
        StringJoiner j = new StringJoiner(",");
        for (long v : values) {
            j.add(Long.toString(v));
        }
        return j.toString();
    }

    private UpstreamLimitWorker() {
    }
}
