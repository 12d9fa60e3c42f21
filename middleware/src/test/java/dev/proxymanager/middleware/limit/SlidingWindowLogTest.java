package dev.proxymanager.middleware.limit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlidingWindowLogTest {

    @Test
    void admitsUntilRequestsThenFreesWhenOldestAgesOut() {
        SlidingWindowLog log = new SlidingWindowLog(3);
        log.record(100);
        log.record(110);
        log.record(120);
        assertThat(log.admits(3, 50, 149)).isFalse();
        assertThat(log.freeAt(3, 50, 149)).isEqualTo(150);
        assertThat(log.admits(3, 50, 150)).isTrue();
    }

    @Test
    void noDoubleBurstAcrossAWindowEdge() {
        // fixed windows would allow 3 at 99 and 3 more at 100; a sliding window does not
        SlidingWindowLog log = new SlidingWindowLog(3);
        int granted = 0;
        for (long t : new long[] {99, 99, 99, 100, 100, 100, 198}) {
            if (log.admits(3, 100, t)) {
                log.record(t);
                granted++;
            }
        }
        assertThat(granted).isEqualTo(3);
        assertThat(log.admits(3, 100, 199)).isTrue();
    }

    @Test
    void manyLimitsShareOneLog() {
        SlidingWindowLog log = new SlidingWindowLog(10);
        for (int t = 0; t < 5; t++) {
            log.record(t);
        }
        assertThat(log.admits(5, 100, 10)).isFalse(); // 5 per 100
        assertThat(log.admits(10, 1000, 10)).isTrue(); // 10 per 1000
        assertThat(log.countInWindow(100, 10)).isEqualTo(5);
        assertThat(log.countInWindow(7, 10)).isEqualTo(1);
    }

    @Test
    void reachedTellsWhenCapIsHit() {
        SlidingWindowLog log = new SlidingWindowLog(2);
        log.record(0);
        assertThat(log.reached(2, 10, 0)).isFalse();
        log.record(5);
        assertThat(log.reached(2, 10, 5)).isTrue();
        assertThat(log.reached(2, 10, 10)).isFalse();
    }

    @Test
    void resizeKeepsNewestUses() {
        SlidingWindowLog log = new SlidingWindowLog(100);
        for (int t = 0; t < 50; t++) {
            log.record(t);
        }
        log.resize(3);
        assertThat(log.size()).isEqualTo(3);
        assertThat(log.nthNewest(3)).isEqualTo(47);
        log.resize(10);
        log.record(60);
        assertThat(log.nthNewest(1)).isEqualTo(60);
        assertThat(log.size()).isEqualTo(4);
    }

    @Test
    void recordAllMergesOutOfOrderTimesKeepingNewest() {
        SlidingWindowLog log = new SlidingWindowLog(3);
        log.record(50);
        log.recordAll(new long[] {10, 70, 30, 60});
        assertThat(log.nthNewest(1)).isEqualTo(70);
        assertThat(log.nthNewest(3)).isEqualTo(50);
        log.record(40); // out of order: merged, the oldest dropped
        assertThat(log.nthNewest(3)).isEqualTo(50);
    }

    @Test
    void growsPastInitialBufferWithoutLosingOrder() {
        SlidingWindowLog log = new SlidingWindowLog(1000);
        for (int t = 0; t < 1500; t++) {
            log.record(t);
        }
        assertThat(log.size()).isEqualTo(1000);
        assertThat(log.nthNewest(1)).isEqualTo(1499);
        assertThat(log.nthNewest(1000)).isEqualTo(500);
    }

    @Test
    void rejectsNegativeCapacityNamingIt() {
        assertThatThrownBy(() -> new SlidingWindowLog(-1)).hasMessage("capacity must be >= 0, was -1");
    }
}
