package dev.proxymanager.middleware.store.redis;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.rotation.AcquireResult;
import dev.proxymanager.middleware.rotation.RotationEngine;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStoreUnavailableException;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One process of the multi-process tests ({@link RedisMultiProcessTest}), started with the test class path.
 *
 * <pre>
 * load &lt;redisUri&gt; &lt;upstreamUrl&gt; &lt;millis&gt; &lt;threads&gt;  send through the shared endpoint for millis, then print DONE
 * hold &lt;redisUri&gt;                                   lease the only secret of "held" and wait to be killed
 * </pre>
 * A load worker prints {@code READY} when warmed up and starts when it reads {@code GO} on its standard input, so
 * the parent starts every process's load together.
 */
public final class UsageLoadWorker {

    /** The endpoint every load worker shares: 4 keys, 4 requests per second each, exclusive leases. */
    static EndpointConfig sharedEndpoint() {
        EndpointConfig.Builder b = EndpointConfig.builder("shared", SecretType.KEY)
                .withBaseUrl(URI.create("http://127.0.0.1:9"))
                .withLimit(LimitConfig.of(RedisMultiProcessTest.LIMIT, RedisMultiProcessTest.WINDOW))
                .withLease(LeaseMode.EXCLUSIVE).withLeaseTtl(RedisMultiProcessTest.LOAD_LEASE_TTL);
        for (int i = 1; i <= 4; i++) {
            b.withSecret("k" + i, "key-value-number-" + i);
        }
        return b.build();
    }

    /** An unlimited endpoint to warm every thread's whole path (engine, Redis, HTTP) before the counted load. */
    static EndpointConfig warmupEndpoint() {
        return EndpointConfig.builder("warmup", SecretType.KEY).withBaseUrl(URI.create("http://127.0.0.1:9"))
                .withSecret("warm", "key-value-number-9").build();
    }

    /** The endpoint of the lease-expiry test: one key, exclusive, 3 s lease TTL. */
    static EndpointConfig heldEndpoint() {
        return EndpointConfig.builder("held", SecretType.KEY).withBaseUrl(URI.create("http://127.0.0.1:9"))
                .withLease(LeaseMode.EXCLUSIVE).withLeaseTtl(RedisMultiProcessTest.LEASE_TTL)
                .withSecret("only", "key-value-number-0").build();
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        // a loaded CI machine can stall a process for more than the default second; the limits are what is tested
        UsageStore store = RedisUsageStore.builder(args[1]).withCommandTimeout(Duration.ofSeconds(10)).build();
        if (mode.equals("hold")) {
            RotationEngine engine = RotationEngine.builder().withStore(store).withEndpoint(heldEndpoint()).build();
            AcquireResult r = engine.acquire("held");
            if (!(r instanceof AcquireResult.Granted g)) {
                System.out.println("DENIED " + r);
                System.exit(2);
                return;
            }
            System.out.println("HOLDING " + g.lease().secretId());
            new CountDownLatch(1).await(); // hold the lease until the parent kills this process
            return;
        }
        URI upstream = URI.create(args[2]);
        long millis = Long.parseLong(args[3]);
        int threads = Integer.parseInt(args[4]);
        RotationEngine engine = RotationEngine.builder().withStore(store).withEndpoint(sharedEndpoint())
                .withEndpoint(warmupEndpoint()).build();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        // warm the whole path up on every thread, so first-use setup does not delay the first counted uses
        List<Thread> warmers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    if (engine.acquire("warmup") instanceof AcquireResult.Granted g) {
                        send(http, upstream, "warm", 0);
                        engine.release(g.lease(), Outcome.success());
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
        // start together with the other processes: the parent writes GO once every process is ready
        String go = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        if (!"GO".equals(go)) {
            System.out.println("NO GO: " + go);
            System.exit(3);
        }
        AtomicLong granted = new AtomicLong();
        AtomicLong unavailable = new AtomicLong();
        long end = System.nanoTime() + Duration.ofMillis(millis).toNanos();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                while (System.nanoTime() < end) {
                    try {
                        AcquireResult r = engine.acquire("shared");
                        if (r instanceof AcquireResult.Granted g) {
                            granted.incrementAndGet();
                            int status = send(http, upstream, g.lease().secretId(), g.lease().acquiredAtNanos());
                            engine.release(g.lease(), status > 0 ? Outcome.status(status) : Outcome.connectionError());
                        } else if (r instanceof AcquireResult.Denied d) {
                            // back off as a client would: until the next secret frees, at most 20 ms
                            LockSupport.parkNanos(Math.min(d.retryAfter().toNanos(), 20_000_000L) + 1_000_000L);
                        }
                    } catch (UsageStoreUnavailableException e) {
                        // counted and reported rather than ending the thread, so a stall shows in DONE
                        if (unavailable.incrementAndGet() == 1) {
                            System.out.println("UNAVAILABLE " + e.getMessage());
                        }
                        LockSupport.parkNanos(20_000_000L);
                    }
                }
            }, "load-" + t);
            w.start();
            workers.add(w);
        }
        for (Thread w : workers) {
            w.join();
        }
        System.out.println("DONE " + granted.get() + " unavailable=" + unavailable.get());
        store.close();
        System.exit(0);
    }

    private static int send(HttpClient http, URI upstream, String secretId, long grantedAt) {
        try {
            return http.send(HttpRequest.newBuilder(upstream).header("X-Secret", secretId)
                    .header("X-Granted-At", Long.toString(grantedAt)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private UsageLoadWorker() {
    }
}
