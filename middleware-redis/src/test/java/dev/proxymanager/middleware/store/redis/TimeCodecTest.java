package dev.proxymanager.middleware.store.redis;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TimeCodecTest {

    private static final long[] TIMES = {0, 1, 9, 10, 999_999_999, 1_000_000_000, 999_999_999_999_999_999L,
            1_000_000_000_000_000_000L, 1_767_225_600_000_000_001L, Long.MAX_VALUE - 1, Long.MAX_VALUE};

    @Test
    void roundTripsEveryTimeExactly() {
        for (long t : TIMES) {
            assertThat(TimeCodec.decode(TimeCodec.encode(t))).as("time %d", t).isEqualTo(t);
        }
    }

    @Test
    void stringOrderIsTimeOrder() {
        String[] encoded = Arrays.stream(TIMES).mapToObj(TimeCodec::encode).toArray(String[]::new);
        for (int i = 0; i < encoded.length; i++) {
            assertThat(encoded[i]).hasSize(TimeCodec.WIDTH);
            for (int j = 0; j < encoded.length; j++) {
                assertThat(Integer.signum(encoded[i].compareTo(encoded[j])))
                        .as("%s vs %s", encoded[i], encoded[j]).isEqualTo(Long.signum(Long.compare(TIMES[i], TIMES[j])));
            }
        }
    }

    @Test
    void todaysTimesAreTheirPlainDecimalForm() {
        // what earlier script versions stored: keys written by them read the same
        assertThat(TimeCodec.encode(1_767_225_600_000_000_001L)).isEqualTo("1767225600000000001");
        assertThat(TimeCodec.encode(5)).isEqualTo("0000000000000000005");
    }

    @Test
    void negativeTimesAreRefusedWithTheTime() {
        assertThatThrownBy(() -> TimeCodec.encode(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void timesSinceTheYear2001AreSentAsPlainNumbers() {
        assertThat(TimeCodec.isPlainDecimal(1_000_000_000_000_000_000L)).isTrue();
        assertThat(TimeCodec.encode(1_000_000_000_000_000_000L)).isEqualTo(Long.toString(1_000_000_000_000_000_000L));
        assertThat(TimeCodec.isPlainDecimal(999_999_999_999_999_999L)).isFalse();
    }
}
