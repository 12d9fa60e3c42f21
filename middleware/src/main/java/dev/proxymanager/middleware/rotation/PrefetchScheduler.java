package dev.proxymanager.middleware.rotation;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Where the producer of the endpoints' ready queues runs its work (see
 * {@link dev.proxymanager.middleware.config.PrefetchConfig}): refills right away, and re-checks after a delay (when a
 * denied secret frees up, when a prefetched one grows too old). The engine reads its own clock for ages and limits;
 * the scheduler only decides when the work runs. Tests pass one that runs due tasks when a fake clock is advanced.
 * Implementations must be threadsafe.
 */
public interface PrefetchScheduler extends AutoCloseable {

    /** Longer delays are cut to this (a re-check that finds nothing to do costs nothing): 1 day. */
    Duration LONGEST_DELAY = Duration.ofDays(1);

    /** Runs {@code task} soon, on the producer's thread. Ignored once closed. */
    void execute(Runnable task);

    /** Runs {@code task} once {@code delay} has passed (at once for zero or negative). Ignored once closed. */
    void schedule(Runnable task, Duration delay);

    /** Stops running tasks; pending ones are dropped. */
    @Override
    void close();

    /**
     * One daemon thread named {@code threadName} (seed D's producer thread), delays on the system's monotonic
     * clock. A task that throws is logged by the engine, not here; the thread keeps running.
     */
    static PrefetchScheduler singleThread(String threadName) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true); // an engine nobody closed must not keep the JVM alive
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        return new PrefetchScheduler() {
            @Override
            public void execute(Runnable task) {
                try {
                    executor.execute(task);
                } catch (RejectedExecutionException closed) {
                    // closed: the engine is shutting down
                }
            }

            @Override
            public void schedule(Runnable task, Duration delay) {
                try {
                    long nanos = delay.compareTo(LONGEST_DELAY) > 0 ? LONGEST_DELAY.toNanos() : delay.toNanos();
                    executor.schedule(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException closed) {
                    // closed: the engine is shutting down
                }
            }

            @Override
            public void close() {
                executor.shutdownNow();
            }

            @Override
            public String toString() {
                return "PrefetchScheduler[" + threadName + "]";
            }
        };
    }
}
