package dev.proxymanager.middleware.backend;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.transport.Backoff;

import java.util.Objects;

/**
 * The project's one "backend down, retry later" rule. A backend is up until a call to it fails; it is then presumed
 * down, and calls skip it until its next probe time, {@code failure time + backoff.delay(consecutive failures)}. At
 * that time {@link #allowsCall} lets exactly one caller through (it claims the probe, so a herd of callers does not
 * hit a backend that is just coming back); its {@link #recordSuccess} ends the outage, its {@link #recordFailure}
 * sets the next probe time. A probe that never reports back is retried after the same delay.
 *
 * <p>Times are nanoseconds on the caller's clock timeline ({@code Clock.nanoTime()}), passed in, so tests advance a
 * fake clock. Both record methods say whether the call changed the state, so callers log a transition once.
 *
 * <p>This class is threadsafe.
 */
public final class BackendGate {

    private final Backoff backoff;
    private int consecutiveFailures;
    /** The next probe time while down; meaningless while up. */
    private long probeAt;

    /** A gate that is up, waiting {@code backoff} between probes once down. */
    public BackendGate(Backoff backoff) {
        this.backoff = Objects.requireNonNull(backoff, "backoff");
    }

    /**
     * Whether a call should go to the backend at {@code now}: always while up; while down, only the first caller at
     * or after the probe time, which claims it (others keep skipping until it reports or the delay passes again).
     */
    public synchronized boolean allowsCall(long now) {
        if (consecutiveFailures == 0) {
            return true;
        }
        if (now < probeAt) {
            return false;
        }
        probeAt = Clock.plus(now, backoff.delayNanos(consecutiveFailures));
        return true;
    }

    /** Whether calls skip the backend at {@code now}: down and the next probe time not reached. Claims nothing. */
    public synchronized boolean skips(long now) {
        return consecutiveFailures > 0 && now < probeAt;
    }

    /** Whether the backend is presumed down (a call failed and none has succeeded since). */
    public synchronized boolean down() {
        return consecutiveFailures > 0;
    }

    /**
     * Records a failed call at {@code now}: the backend is down until the next probe time.
     *
     * @return whether the backend was up before (an outage began)
     */
    public synchronized boolean recordFailure(long now) {
        consecutiveFailures = consecutiveFailures == Integer.MAX_VALUE ? consecutiveFailures : consecutiveFailures + 1;
        probeAt = Clock.plus(now, backoff.delayNanos(consecutiveFailures));
        return consecutiveFailures == 1;
    }

    /**
     * Records a successful call: the backend is up.
     *
     * @return whether it was down before (an outage ended)
     */
    public synchronized boolean recordSuccess() {
        boolean wasDown = consecutiveFailures > 0;
        consecutiveFailures = 0;
        return wasDown;
    }

    /** Lets the next call probe at once (e.g. a last try on shutdown); the backend stays presumed down. */
    public synchronized void probeNow() {
        probeAt = Long.MIN_VALUE;
    }

    /** When a call may next probe the backend, or {@code now} while it is up. */
    public synchronized long nextProbeAt(long now) {
        return consecutiveFailures == 0 ? now : Math.max(now, probeAt);
    }

    /** Failed calls since the last success. */
    public synchronized int consecutiveFailures() {
        return consecutiveFailures;
    }

    @Override
    public synchronized String toString() {
        return consecutiveFailures == 0 ? "BackendGate[up]"
                : "BackendGate[down, " + consecutiveFailures + " failures, probe at " + probeAt + "]";
    }
}
