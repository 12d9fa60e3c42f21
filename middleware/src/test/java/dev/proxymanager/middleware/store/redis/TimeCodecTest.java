package dev.proxymanager.middleware.store.redis;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TimeCodecTest {

    @Test
    void roundTripsEveryKindOfTimeExactly() {
        long[] times = {0, 1, 999_999_999, 1_000_000_000, 1_767_225_600_000_000_001L, Long.MAX_VALUE, -1,
                -1_000_000_001L, Long.MIN_VALUE};
        for (long t : times) {
            assertThat(TimeCodec.decode(TimeCodec.encode(t))).as("time %d", t).isEqualTo(t);
        }
    }

    @Test
    void nonNegativeTimesAreTheirDecimalForm() {
        assertThat(TimeCodec.encode(1_767_225_600_000_000_001L)).isEqualTo("1767225600000000001");
        assertThat(TimeCodec.encode(5)).isEqualTo("0000000005");
    }

    @Test
    void sumsBeyondTheLongRangeSaturate() {
        assertThat(TimeCodec.decode("18446744073000000000")).isEqualTo(Long.MAX_VALUE);
    }
}
