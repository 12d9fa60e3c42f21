package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.clock.Sleeper;
import dev.proxymanager.middleware.lease.SecretLease;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.transport.UseRestamp;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;

/**
 * One exchange's use of its lease as the store records it, moved to when the request is really written when it
 * waited too long after its grant ({@link RotationEngine#restampUse}). When no limit admits the use at that moment (a
 * later grant took its slot meanwhile), it waits until one does rather than send over a limit. Hand it to
 * {@code HttpTransport.execute}. This class is <em>not</em> threadsafe: one per exchange.
 */
public final class UseStamp implements UseRestamp {

    private final RotationEngine engine;
    private final SecretLease lease;
    private final Clock clock;
    private final Sleeper sleeper;
    private final long maxWaitNanos;
    private long usedAt;
    private boolean writeCleared;

    /**
     * @param maxWait the longest wait for a limit to admit the use; past it the exchange fails, unsent, with a
     *                {@link UseNotAdmittedException}
     */
    public UseStamp(RotationEngine engine, SecretLease lease, Sleeper sleeper, Duration maxWait) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.lease = Objects.requireNonNull(lease, "lease");
        this.clock = engine.clock();
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.maxWaitNanos = maxWait.toNanos();
        this.usedAt = lease.acquiredAtNanos();
    }

    /**
     * Whether a write of the request was let through (on any attempt or redirect HttpClient made): then the request
     * may have reached the upstream, and its use must stay counted whatever happens next.
     */
    public boolean writeCleared() {
        return writeCleared;
    }

    /** When the use is recorded now: the grant, or the last re-stamp. */
    public long usedAt() {
        return usedAt;
    }

    @Override
    public void beforeWrite() throws IOException {
        long deadline = clock.nanoTime() + maxWaitNanos;
        while (true) {
            Availability a = engine.restampUse(lease, usedAt);
            if (a.cause() == UnavailableCause.READY) {
                usedAt = a.freeAt();
                writeCleared = true;
                return;
            }
            long wait = a.freeAt() - clock.nanoTime();
            if (a.freeAt() > deadline) {
                throw new UseNotAdmittedException("the use of secret " + lease.secretId() + " of endpoint "
                        + lease.endpoint() + " cannot be sent within its limits for another " + Duration.ofNanos(wait)
                        + "; not sent");
            }
            try {
                sleeper.sleep(Duration.ofNanos(Math.max(wait, 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting to send within the limits");
            }
        }
    }
}
