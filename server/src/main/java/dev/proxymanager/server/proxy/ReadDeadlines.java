package dev.proxymanager.server.proxy;

import dev.proxymanager.middleware.clock.Clock;
import org.apache.hc.core5.concurrent.Cancellable;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The read timeouts of the proxy port's upstream exchanges, kept by one watchdog thread instead of by each blocked
 * read. A socket read with a timeout parks its virtual thread with a timer, and arming and cancelling that timer on
 * every read cost the port a quarter of its throughput and most of its tail latency (docs/benchmarks.md). Here an
 * exchange {@linkplain #watch watches} its read deadline, every read that makes progress pushes the deadline on, and
 * the watchdog cancels an exchange whose deadline passed: its connection is closed, which ends the blocked read, and
 * the exchange reports a {@link SocketTimeoutException} ({@link Watch#failed}). So the timeout means what
 * a socket read timeout means: the longest wait for the next bytes, checked every {@link #TICK} at most late.
 * This class is threadsafe.
 */
final class ReadDeadlines implements AutoCloseable {

    /** How often the watchdog looks: how late a timeout may fire. */
    static final Duration TICK = Duration.ofMillis(10);

    private final Clock clock;
    private final Set<Watch> watched = ConcurrentHashMap.newKeySet();
    private final Thread watchdog;
    private volatile boolean closed;

    ReadDeadlines(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.watchdog = Thread.ofPlatform().name("proxy-port-read-deadlines").daemon().start(this::run);
    }

    /**
     * Starts watching an exchange: {@code onTimeout} is cancelled once {@code readTimeout} passes without
     * {@link Watch#progressed progress}, unless the watch is {@link Watch#done done} first.
     */
    Watch watch(Duration readTimeout, Cancellable onTimeout) {
        Watch w = new Watch(readTimeout.toNanos(), Objects.requireNonNull(onTimeout, "onTimeout"));
        w.progressed();
        watched.add(w);
        return w;
    }

    /** How many exchanges are watched now. */
    int watching() {
        return watched.size();
    }

    /** Times out every watched exchange past its deadline; the watchdog calls this each tick. */
    void expire() {
        long now = clock.nanoTime();
        for (Watch w : watched) {
            if (now - w.deadline > 0) {
                w.expire();
            }
        }
    }

    private void run() {
        while (!closed) {
            LockSupport.parkNanos(TICK.toNanos());
            expire();
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(watchdog);
    }

    /** One exchange's read deadline. */
    final class Watch {
        private static final long PAUSED = Long.MAX_VALUE / 2;

        private final long timeoutNanos;
        private final Cancellable onTimeout;
        private volatile long deadline;
        private volatile boolean timedOut;

        private Watch(long timeoutNanos, Cancellable onTimeout) {
            this.timeoutNanos = timeoutNanos;
            this.onTimeout = onTimeout;
        }

        /** Bytes arrived (or the exchange starts waiting anew): the deadline is one timeout from now. */
        void progressed() {
            deadline = clock.nanoTime() + timeoutNanos;
        }

        /** Stops the clock while the exchange waits for something with its own timeout (dialling the proxy). */
        void pause() {
            deadline = clock.nanoTime() + PAUSED;
        }

        /** The exchange ended (read whole, closed or failed): it is no longer watched. */
        void done() {
            watched.remove(this);
        }

        /** Whether the watchdog cancelled the exchange for waiting longer than its timeout. */
        boolean timedOut() {
            return timedOut;
        }

        /**
         * The exchange failed: it is no longer watched, and this is its failure as its caller should see it — a
         * {@link SocketTimeoutException} when the watchdog cut it, {@code cause} otherwise.
         */
        IOException failed(IOException cause) {
            done();
            if (!timedOut) {
                return cause;
            }
            SocketTimeoutException e = new SocketTimeoutException("no bytes from the upstream proxy within the read"
                    + " timeout (" + Duration.ofNanos(timeoutNanos).toMillis() + " ms)");
            e.initCause(cause);
            return e;
        }

        private void expire() {
            if (watched.remove(this)) {
                timedOut = true;
                onTimeout.cancel();
            }
        }
    }
}
