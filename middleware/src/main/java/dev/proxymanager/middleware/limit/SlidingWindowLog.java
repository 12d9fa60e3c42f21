package dev.proxymanager.middleware.limit;

import java.util.Arrays;

/**
 * The times of a secret's most recent uses, enough to decide every sliding-window limit on it exactly.
 *
 * <p>A limit "at most R uses in any window of length w" admits a use at {@code now} exactly when fewer than R uses
 * fall in {@code (now - w, now]}, i.e. when the R-th newest use is at or before {@code now - w}. So keeping the
 * newest {@code capacity} = max R use times decides all limits in O(1) each, with no burst of 2R at a window edge
 * (as fixed windows allow). The buffer grows on demand up to the capacity.
 *
 * <p>Times are nanoseconds on the {@link dev.proxymanager.middleware.clock.Clock} timeline. This class is
 * <em>not</em> threadsafe; the usage store guards it.
 */
public final class SlidingWindowLog {

    private long[] ring;
    private int head; // index of the oldest kept use
    private int size;
    private int capacity;

    /** A log keeping at most {@code capacity} uses; 0 keeps none (no limits). */
    public SlidingWindowLog(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, was " + capacity);
        }
        this.capacity = capacity;
        this.ring = new long[Math.min(capacity, 8)];
    }

    /** How many uses are kept at most. */
    public int capacity() {
        return capacity;
    }

    /** Uses currently kept (at most {@link #capacity()}). */
    public int size() {
        return size;
    }

    /** Changes the capacity, keeping the newest uses (limits changed at run time keep their counts). */
    public void resize(int newCapacity) {
        if (newCapacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, was " + newCapacity);
        }
        long[] kept = newestFirst(Math.min(size, newCapacity));
        capacity = newCapacity;
        ring = new long[Math.max(Math.min(newCapacity, 8), kept.length)];
        head = 0;
        size = 0;
        for (int i = kept.length - 1; i >= 0; i--) {
            append(kept[i]);
        }
    }

    /** Records a use at {@code time}; uses must be recorded in time order (see {@link #recordAll} otherwise). */
    public void record(long time) {
        if (capacity == 0) {
            return;
        }
        if (size > 0 && time < nthNewest(1)) {
            recordAll(new long[] {time});
            return;
        }
        append(time);
    }

    /** Merges uses at arbitrary times (e.g. rebuilt from a request log), keeping the newest {@link #capacity()}. */
    public void recordAll(long[] times) {
        if (capacity == 0 || times.length == 0) {
            return;
        }
        long[] all = Arrays.copyOf(newestFirst(size), size + times.length);
        System.arraycopy(times, 0, all, size, times.length);
        Arrays.sort(all);
        int from = Math.max(0, all.length - capacity);
        ring = new long[Math.max(Math.min(capacity, 8), all.length - from)];
        head = 0;
        size = 0;
        for (int i = from; i < all.length; i++) {
            append(all[i]);
        }
    }

    /** Forgets one use at exactly {@code time}; false when none is kept. */
    public boolean remove(long time) {
        long[] kept = newestFirst(size);
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] == time) {
                head = 0;
                size = 0;
                for (int k = kept.length - 1; k >= 0; k--) {
                    if (k != i) {
                        append(kept[k]);
                    }
                }
                return true;
            }
        }
        return false;
    }

    private void append(long time) {
        if (size == capacity) {
            ring[head] = time;
            head = (head + 1) % ring.length;
            return;
        }
        if (size == ring.length) {
            long[] grown = new long[Math.min(capacity, Math.max(8, ring.length * 2))];
            for (int i = 0; i < size; i++) {
                grown[i] = ring[(head + i) % ring.length];
            }
            ring = grown;
            head = 0;
        }
        ring[(head + size) % ring.length] = time;
        size++;
    }

    /** The time of the n-th newest kept use (1 = newest). */
    public long nthNewest(int n) {
        if (n < 1 || n > size) {
            throw new IndexOutOfBoundsException("n must be in 1.." + size + ", was " + n);
        }
        return ring[(head + size - n) % ring.length];
    }

    /** Whether a limit of {@code requests} per {@code perNanos} admits one more use at {@code now}. */
    public boolean admits(int requests, long perNanos, long now) {
        return size < requests || nthNewest(requests) <= now - perNanos;
    }

    /** When the limit admits a use: {@code now} if it does now, else when the oldest use that blocks ages out. */
    public long freeAt(int requests, long perNanos, long now) {
        return admits(requests, perNanos, now) ? now : nthNewest(requests) + perNanos;
    }

    /** Whether the window {@code (now - perNanos, now]} holds {@code requests} uses or more (a usage cap is reached). */
    public boolean reached(int requests, long perNanos, long now) {
        return size >= requests && nthNewest(requests) > now - perNanos;
    }

    /** Kept uses in {@code (now - perNanos, now]}; exact up to {@link #capacity()}. */
    public int countInWindow(long perNanos, long now) {
        long from = now - perNanos;
        int lo = 1;
        int hi = size; // find the largest n with nthNewest(n) > from
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (nthNewest(mid) > from) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        // uses after now (clock skew between processes) are not in the window either
        int future = 0;
        while (future < found && nthNewest(future + 1) > now) {
            future++;
        }
        return found - future;
    }

    private long[] newestFirst(int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = nthNewest(i + 1);
        }
        return out;
    }
}
