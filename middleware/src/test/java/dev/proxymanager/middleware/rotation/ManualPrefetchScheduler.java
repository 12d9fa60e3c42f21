package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@link PrefetchScheduler} that runs the producer's work only when a test calls {@link #runDue()}, at the fake
 * clock's time: the test decides exactly when the producer works, with no threads and no sleeps.
 */
final class ManualPrefetchScheduler implements PrefetchScheduler {

    private record Task(long dueAt, long seq, Runnable task) {
    }

    private final FakeClock clock;
    private final List<Task> tasks = new ArrayList<>();
    private long seq;
    private boolean closed;

    ManualPrefetchScheduler(FakeClock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized void execute(Runnable task) {
        schedule(task, Duration.ZERO);
    }

    @Override
    public synchronized void schedule(Runnable task, Duration delay) {
        if (!closed) {
            tasks.add(new Task(clock.nanoTime() + Math.max(0, delay.toNanos()), seq++, task));
        }
    }

    /** Runs every task due at the clock's time, in due order, including due tasks they schedule; returns how many. */
    int runDue() {
        int ran = 0;
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.stream().filter(t -> t.dueAt() <= clock.nanoTime())
                        .min(Comparator.comparingLong(Task::dueAt).thenComparingLong(Task::seq)).orElse(null);
                if (next == null) {
                    return ran;
                }
                tasks.remove(next);
            }
            next.task().run();
            ran++;
        }
    }

    /** How many tasks wait, due or not. */
    synchronized int pending() {
        return tasks.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
        tasks.clear();
    }
}
