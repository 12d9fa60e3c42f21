package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.lease.SecretLease;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;

import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static dev.proxymanager.middleware.rotation.Fixtures.keys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A use is counted when its request is written: one that waited after its grant longer than half the guard band is
 * re-stamped, so the grant that takes its slot cannot come less than a window after the request arrives.
 */
class UseStampTest {

    private static final Duration WINDOW = Duration.ofSeconds(2);
    private static final Duration MARGIN = Duration.ofMillis(50);

    private final FakeClock clock = new FakeClock();
    private final RotationEngine engine = Fixtures.engine(clock, keys("api", 1)
            .withLimit(LimitConfig.of(1, WINDOW)).withLimitMargin(new LimitMargin(MARGIN, 0)).build());

    private UseStamp stamp(SecretLease lease) {
        return new UseStamp(engine, lease, clock::advance, Duration.ofSeconds(10));
    }

    @Test
    void aUseThatWaitedLongerThanHalfTheMarginCountsFromItsWrite() throws IOException {
        SecretLease lease = granted(engine.acquire("api"));
        long grantedAt = clock.nanoTime();
        clock.advance(Duration.ofSeconds(1)); // queued, backing off or connecting

        UseStamp stamp = stamp(lease);
        stamp.beforeWrite();

        assertThat(stamp.usedAt()).isEqualTo(grantedAt + Duration.ofSeconds(1).toNanos());
        clock.advance(WINDOW.plus(MARGIN).minusMillis(1));
        assertThat(engine.acquire("api")).isInstanceOf(AcquireResult.Denied.class);
        clock.advance(Duration.ofMillis(1));
        assertThat(engine.acquire("api")).isInstanceOf(AcquireResult.Granted.class);
    }

    @Test
    void aUseWrittenWithinHalfTheMarginKeepsItsGrantTime() throws IOException {
        SecretLease lease = granted(engine.acquire("api"));
        clock.advance(MARGIN.dividedBy(2));

        UseStamp stamp = stamp(lease);
        stamp.beforeWrite();

        assertThat(stamp.usedAt()).isEqualTo(lease.acquiredAtNanos());
    }

    @Test
    void waitsWhileALaterGrantHoldsTheSlotThenCountsFromItsWrite() throws IOException {
        SecretLease late = granted(engine.acquire("api"));
        clock.advance(WINDOW.plus(MARGIN));
        SecretLease next = granted(engine.acquire("api")); // the slot freed by the grant of the late one
        long nextAt = next.acquiredAtNanos();

        UseStamp stamp = stamp(late);
        stamp.beforeWrite();

        // sent only once the next one's slot frees: never two requests within one window
        assertThat(stamp.usedAt()).isGreaterThanOrEqualTo(nextAt + WINDOW.plus(MARGIN).toNanos());
        assertThat(clock.nanoTime()).isEqualTo(stamp.usedAt());
    }

    @Test
    void refusesToSendWhenNoLimitAdmitsTheUseWithinTheWait() {
        SecretLease late = granted(engine.acquire("api"));
        clock.advance(WINDOW.plus(MARGIN));
        granted(engine.acquire("api"));

        UseStamp impatient = new UseStamp(engine, late, clock::advance, Duration.ofMillis(100));

        assertThatThrownBy(impatient::beforeWrite).isInstanceOf(UseNotAdmittedException.class)
                .hasMessageContaining("cannot be sent within its limits");
        // nothing went out: the dispatcher may give its use back
        assertThat(impatient.writeCleared()).isFalse();
    }

    @Test
    void aWriteLetThroughMarksTheUseAsMaybeSentForGood() throws IOException {
        // given a first hop let through
        SecretLease lease = granted(engine.acquire("api"));
        UseStamp stamp = new UseStamp(engine, lease, clock::advance, Duration.ofMillis(100));
        assertThat(stamp.writeCleared()).isFalse();
        stamp.beforeWrite();
        assertThat(stamp.writeCleared()).isTrue();

        // when a later hop (a redirect) is refused: a later grant took the slot the use would move to
        clock.advance(WINDOW.plus(MARGIN));
        granted(engine.acquire("api"));
        assertThatThrownBy(stamp::beforeWrite).isInstanceOf(UseNotAdmittedException.class);

        // then the first hop may have reached the upstream: its use must stay counted
        assertThat(stamp.writeCleared()).isTrue();
    }
}
