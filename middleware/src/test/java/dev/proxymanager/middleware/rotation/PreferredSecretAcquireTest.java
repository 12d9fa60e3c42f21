package dev.proxymanager.middleware.rotation;

import static dev.proxymanager.middleware.rotation.Fixtures.engine;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link RotationEngine#acquire(String, String)}: the sticky sessions of {@code Request}. */
class PreferredSecretAcquireTest {

    private final FakeClock clock = new FakeClock();

    @Test
    void thePreferredSecretIsHandedOutWhileItIsUsable() {
        // given three keys rotated least-used, k2 preferred
        RotationEngine engine = engine(clock, keys("api", 3).withLimit(LimitConfig.of(10, Duration.ofHours(1))).build());

        // when / then: least-used alone would have spread these over all three
        for (int i = 0; i < 5; i++) {
            var lease = granted(engine.acquire("api", "k2"));
            assertThat(lease.secretId()).isEqualTo("k2");
            engine.release(lease, Outcome.success());
        }
    }

    @Test
    void anotherSecretIsHandedOutOnceThePreferredOneReachesItsLimit() {
        // given k1 allowed two uses an hour
        RotationEngine engine = engine(clock, keys("api", 2).withLimit(LimitConfig.of(2, Duration.ofHours(1))).build());
        engine.release(granted(engine.acquire("api", "k1")), Outcome.success());
        engine.release(granted(engine.acquire("api", "k1")), Outcome.success());

        // when
        var lease = granted(engine.acquire("api", "k1"));

        // then
        assertThat(lease.secretId()).isEqualTo("k2");
    }

    @Test
    void anUnknownPreferredIdIsIgnored() {
        // given
        RotationEngine engine = engine(clock, keys("api", 2).build());

        // when / then
        assertThat(granted(engine.acquire("api", "no-such-secret")).secretId()).isIn("k1", "k2");
    }
}
