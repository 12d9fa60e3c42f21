package dev.proxymanager.server.limit;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds the upstream requests in flight (seed E's semaphore) with a bounded wait queue in front of it: a caller
 * gets a slot at once when one is free, waits (up to a deadline) when the queue has room, and is rejected at once
 * when the queue is full — so an overloaded server answers 503 fast instead of piling up connections.
 *
 * <p>Both bounds can be changed live ({@link #resize}); callers already waiting keep waiting. Release each
 * {@link Permit} exactly once (it is {@link AutoCloseable}). This class is threadsafe.
 */
public final class ConcurrencyLimiter {

    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition slotFreed = lock.newCondition();
    private int maxConcurrent;
    private int maxQueue;
    private int active;
    private int waiting;

    /**
     * @param maxConcurrent slots; must be > 0
     * @param maxQueue callers that may wait for a slot; must be >= 0
     * @throws IllegalArgumentException when a bound is out of range
     */
    public ConcurrencyLimiter(int maxConcurrent, int maxQueue) {
        check(maxConcurrent, maxQueue);
        this.maxConcurrent = maxConcurrent;
        this.maxQueue = maxQueue;
    }

    private static void check(int maxConcurrent, int maxQueue) {
        if (maxConcurrent <= 0) {
            throw new IllegalArgumentException("max_concurrent_requests must be > 0, was " + maxConcurrent);
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("max_queue_size must be >= 0, was " + maxQueue);
        }
    }

    /**
     * Takes a slot, waiting up to {@code maxWait} when none is free and the queue has room.
     *
     * @return the permit, or {@code null} when the queue is full or the wait timed out (the caller answers 503)
     * @throws InterruptedException when interrupted while waiting
     */
    public Permit tryAcquire(Duration maxWait) throws InterruptedException {
        long remaining = maxWait.toNanos();
        lock.lock();
        try {
            if (active < maxConcurrent && waiting == 0) {
                active++;
                return new Permit(this);
            }
            if (waiting >= maxQueue) {
                return null;
            }
            waiting++;
            try {
                while (active >= maxConcurrent) {
                    if (remaining <= 0) {
                        return null;
                    }
                    remaining = slotFreed.awaitNanos(remaining);
                }
                active++;
                return new Permit(this);
            } finally {
                waiting--;
            }
        } finally {
            lock.unlock();
        }
    }

    void release() {
        lock.lock();
        try {
            active--;
            slotFreed.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Changes both bounds; a larger {@code maxConcurrent} wakes waiting callers at once.
     *
     * @throws IllegalArgumentException when a bound is out of range
     */
    public void resize(int maxConcurrent, int maxQueue) {
        check(maxConcurrent, maxQueue);
        lock.lock();
        try {
            this.maxConcurrent = maxConcurrent;
            this.maxQueue = maxQueue;
            slotFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Requests holding a slot now. */
    public int active() {
        lock.lock();
        try {
            return active;
        } finally {
            lock.unlock();
        }
    }

    /** Requests waiting for a slot now. */
    public int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** The bound on requests in flight. */
    public int maxConcurrent() {
        lock.lock();
        try {
            return maxConcurrent;
        } finally {
            lock.unlock();
        }
    }

    /** The bound on waiting requests. */
    public int maxQueue() {
        lock.lock();
        try {
            return maxQueue;
        } finally {
            lock.unlock();
        }
    }

    /** One slot; {@link #close()} gives it back (a second close does nothing). Not threadsafe. */
    public static final class Permit implements AutoCloseable {
        private final ConcurrencyLimiter owner;
        private boolean released;

        private Permit(ConcurrencyLimiter owner) {
            this.owner = owner;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                owner.release();
            }
        }
    }

    /** Suggested Retry-After for a rejected caller. */
    public static final Duration RETRY_AFTER = Duration.ofSeconds(1);

}
