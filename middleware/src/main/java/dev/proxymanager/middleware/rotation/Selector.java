package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.health.ThompsonSampler;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.random.RandomGenerator;

/**
 * The set of ready secrets of one endpoint, ordered by a rotation method. Only slots whose location is READY are in
 * it; queue-backed selectors drop stale entries lazily (an entry is live when its generation matches the slot's).
 * Every operation is O(1) or O(log n): selection never scans all secrets. Guarded by the endpoint's lock.
 */
abstract class Selector {

    /** Makes {@code s} ready (preferred after the ones already there, by this method's order). */
    abstract void add(Slot s);

    /** Returns an unexamined slot to where it was (front of the line). */
    abstract void putBack(Slot s);

    /** Takes the preferred ready slot out, or returns {@code null} when none is ready. */
    abstract Slot poll(long now);

    /** Drops {@code s} (its location is changing away from READY). */
    abstract void remove(Slot s);

    /** {@code s}'s health record changed (an outcome was applied); only health-weighted ranks by it. */
    void healthChanged(Slot s) {
    }

    static Selector of(EndpointConfig e, RandomGenerator random) {
        return switch (e.rotation()) {
            case LEAST_USED -> new LeastUsed();
            case ROUND_ROBIN, RATE_LIMITED -> new RoundRobin();
            case TIME_BASED -> new TimeBased(e.rotationInterval().toNanos());
            case HEALTH_WEIGHTED -> new HealthWeighted(random);
        };
    }

    /** Takes entries off the head until a live one, which it claims (its slot leaves the ready set). */
    static Slot pollLive(Queue<Entry> entries) {
        Entry e;
        while ((e = entries.poll()) != null) {
            if (e.live()) {
                e.slot.readyGen++;
                return e.slot;
            }
        }
        return null;
    }

    record Entry(Slot slot, int gen, long rank, long seq) {
        boolean live() {
            return slot.location == Slot.Location.READY && slot.readyGen == gen;
        }
    }

    /** Round-robin: a FIFO of ready slots; a used slot goes to the back. */
    static class RoundRobin extends Selector {
        final ArrayDeque<Entry> queue = new ArrayDeque<>();

        @Override
        void add(Slot s) {
            queue.addLast(new Entry(s, ++s.readyGen, 0, 0));
        }

        @Override
        void putBack(Slot s) {
            queue.addFirst(new Entry(s, ++s.readyGen, 0, 0));
        }

        @Override
        Slot poll(long now) {
            return pollLive(queue);
        }

        @Override
        void remove(Slot s) {
            s.readyGen++;
        }
    }

    /** Time-based: stays on one slot for the interval while it is ready, then moves to the next in turn. */
    static final class TimeBased extends RoundRobin {
        private final long intervalNanos;
        private Slot current;
        private long switchAt;

        TimeBased(long intervalNanos) {
            this.intervalNanos = intervalNanos;
        }

        @Override
        Slot poll(long now) {
            if (current != null && now < switchAt && current.location == Slot.Location.READY) {
                current.readyGen++; // its queue entry is stale now; it is re-added after use
                return current;
            }
            Slot next = super.poll(now);
            if (next != null && next != current) {
                current = next;
                switchAt = now + intervalNanos;
            } else if (next != null) {
                switchAt = now + intervalNanos;
            }
            return next;
        }
    }

    /** Least-used: a heap by uses granted; ties go to the slot that waited longest. */
    static final class LeastUsed extends Selector {
        private final PriorityQueue<Entry> heap = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Long.compare(a.rank, b.rank) : Long.compare(a.seq, b.seq));
        private long seq;

        @Override
        void add(Slot s) {
            heap.add(new Entry(s, ++s.readyGen, s.rank, seq++));
        }

        @Override
        void putBack(Slot s) {
            heap.add(new Entry(s, ++s.readyGen, s.rank, -1));
        }

        @Override
        Slot poll(long now) {
            return pollLive(heap);
        }

        @Override
        void remove(Slot s) {
            s.readyGen++;
        }

        /** The smallest rank among ready slots, so a secret added later does not take all traffic. */
        long minRank() {
            for (Entry e; (e = heap.peek()) != null; heap.poll()) {
                if (e.live()) {
                    return e.rank;
                }
            }
            return 0;
        }
    }

    /**
     * Health-weighted: Thompson sampling among a small hot set of ready slots — up to {@value #HOT} that won or
     * survived recent draws — plus one challenger picked at random among the other ready slots on every poll. The
     * slot with the highest draw is used; the one with the lowest draw leaves the hot set (or, if it is the
     * challenger, is not let in). Good secrets thus stay in the hot set and get most traffic, bad ones drop out after
     * a few low draws, and every ready secret keeps a chance through the challenger.
     *
     * <p>Why a hot set: drawing for random slots among 100 000 touches scattered memory on every poll (the slot, its
     * health record, its store record — cache misses that cost microseconds), while the hot set's records stay in
     * cache. The Beta parameters of all ready slots sit side by side in one array in ready order (struct-of-arrays),
     * the hot ones first, so the draws read two cache lines plus one for the challenger. Every operation is O(1).
     */
    static final class HealthWeighted extends Selector {
        static final int HOT = 8;
        /** Ready slots: the hot set at [0, hotSize), the others at [hotSize, size). */
        private Slot[] ready = new Slot[16];
        /** For ready[i]: {@code 1 + successes} at [2i], {@code 1 + failures} at [2i + 1]. */
        private double[] betaParameters = new double[32];
        private int size;
        private int hotSize;
        private final RandomGenerator random;

        HealthWeighted(RandomGenerator random) {
            this.random = random;
        }

        @Override
        void add(Slot s) {
            if (s.readyIndex >= 0) {
                return;
            }
            if (size == ready.length) {
                ready = java.util.Arrays.copyOf(ready, size * 2);
                betaParameters = java.util.Arrays.copyOf(betaParameters, size * 4);
            }
            place(s, size++);
            healthChanged(s);
            if (hotSize < HOT) {
                swap(hotSize++, s.readyIndex); // a free place in the hot set: returning winners get straight back in
            } else {
                // full (leases or limits took winners away and others filled in): a returning secret with a better
                // record than the hot set's weakest takes its place, so good secrets do not wait to be drawn again
                int weakest = weakestHot();
                if (mean(s.readyIndex) > mean(weakest)) {
                    swap(weakest, s.readyIndex);
                }
            }
        }

        /** The hot slot with the lowest posterior mean success rate. */
        private int weakestHot() {
            int weakest = 0;
            double lowest = mean(0);
            for (int i = 1; i < hotSize; i++) {
                double m = mean(i);
                if (m < lowest) {
                    lowest = m;
                    weakest = i;
                }
            }
            return weakest;
        }

        /** Mean of Beta(a, b) for ready[i]: the expected success rate. */
        private double mean(int i) {
            double a = betaParameters[2 * i];
            return a / (a + betaParameters[2 * i + 1]);
        }

        @Override
        void putBack(Slot s) {
            add(s);
        }

        @Override
        void healthChanged(Slot s) {
            int i = s.readyIndex;
            if (i >= 0) {
                betaParameters[2 * i] = 1.0 + s.health.successes();
                betaParameters[2 * i + 1] = 1.0 + s.health.failures();
            }
        }

        @Override
        Slot poll(long now) {
            if (size == 0) {
                return null;
            }
            while (hotSize < HOT && hotSize < size) { // refill from the others, at random
                swap(hotSize, hotSize + random.nextInt(size - hotSize));
                hotSize++;
            }
            int candidates = hotSize;
            if (size > hotSize) { // the challenger sits at index hotSize for this poll
                swap(hotSize, hotSize + random.nextInt(size - hotSize));
                candidates++;
            }
            double[] p = betaParameters;
            int best = 0;
            int worst = 0;
            double bestDraw = -1;
            double worstDraw = 2;
            for (int i = 0; i < candidates; i++) {
                double d = ThompsonSampler.beta(p[2 * i], p[2 * i + 1], random);
                if (d > bestDraw) {
                    bestDraw = d;
                    best = i;
                }
                if (d < worstDraw) {
                    worstDraw = d;
                    worst = i;
                }
            }
            Slot winner = ready[best];
            if (candidates > hotSize && worst != hotSize) {
                swap(worst, hotSize); // the challenger drew higher than the worst hot slot: they trade places
            }
            remove(winner);
            return winner;
        }

        @Override
        void remove(Slot s) {
            int i = s.readyIndex;
            if (i < 0) {
                return;
            }
            if (i < hotSize) { // keep the hot set contiguous: its last member fills the gap
                swap(i, --hotSize);
                i = hotSize;
            }
            int last = --size;
            if (i != last) {
                swap(i, last);
            }
            ready[last] = null;
            s.readyIndex = -1;
        }

        private void place(Slot s, int i) {
            ready[i] = s;
            s.readyIndex = i;
        }

        private void swap(int i, int j) {
            if (i == j) {
                return;
            }
            Slot a = ready[i];
            Slot b = ready[j];
            place(b, i);
            place(a, j);
            double[] p = betaParameters;
            double t = p[2 * i];
            p[2 * i] = p[2 * j];
            p[2 * j] = t;
            t = p[2 * i + 1];
            p[2 * i + 1] = p[2 * j + 1];
            p[2 * j + 1] = t;
        }
    }
}
