package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.health.ThompsonSampler;

import java.util.ArrayDeque;
import java.util.ArrayList;
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
     * Health-weighted: Thompson sampling among up to {@value #SAMPLE} ready slots picked at random (all of them when
     * fewer), so the cost stays constant with 100 000 secrets while good secrets win most draws.
     */
    static final class HealthWeighted extends Selector {
        static final int SAMPLE = 8;
        private final ArrayList<Slot> ready = new ArrayList<>();
        private final RandomGenerator random;

        HealthWeighted(RandomGenerator random) {
            this.random = random;
        }

        @Override
        void add(Slot s) {
            if (s.readyIndex < 0) {
                s.readyIndex = ready.size();
                ready.add(s);
            }
        }

        @Override
        void putBack(Slot s) {
            add(s);
        }

        @Override
        Slot poll(long now) {
            int n = ready.size();
            if (n == 0) {
                return null;
            }
            Slot best = null;
            double bestDraw = -1;
            int draws = Math.min(n, SAMPLE);
            for (int i = 0; i < draws; i++) {
                Slot s = n <= SAMPLE ? ready.get(i) : ready.get(random.nextInt(n));
                double d = ThompsonSampler.draw(s.health, random);
                if (d > bestDraw) {
                    bestDraw = d;
                    best = s;
                }
            }
            remove(best);
            return best;
        }

        @Override
        void remove(Slot s) {
            int i = s.readyIndex;
            if (i < 0) {
                return;
            }
            Slot last = ready.remove(ready.size() - 1);
            if (last != s) {
                ready.set(i, last);
                last.readyIndex = i;
            }
            s.readyIndex = -1;
        }
    }
}
