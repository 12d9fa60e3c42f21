package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.store.UnavailableCause;
import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageStore;
import dev.proxymanager.middleware.store.UsageStoreFailedException;
import dev.proxymanager.middleware.store.UsageStoreUnavailableException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store that throws never lets a secret out unchecked: fail-open and fail-closed are the store's policy
 * ({@code FailoverUsageStore}, tested in {@code FailoverUsageStoreRedisTest}); the engine denies.
 */
class StoreFailureTest {

    /** A store whose every hot-path call throws {@code failure}. */
    private static final class ThrowingStore implements UsageStore {
        private final RuntimeException failure;

        ThrowingStore(RuntimeException failure) {
            this.failure = failure;
        }

        @Override
        public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                     String leaseId, long now, int units) {
            throw failure;
        }

        @Override
        public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                    long cooldownUntil, boolean remove) {
            throw failure;
        }

        @Override
        public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now,
                                    int units) {
            throw new IllegalStateException("connection refused: 127.0.0.1:6379");
        }

        @Override
        public void restore(String endpoint, String secretId) {
        }

        @Override
        public void remove(String endpoint, String secretId) {
        }

        @Override
        public void recordPastUses(String endpoint, StoreCandidate secret, long[] useTimes) {
        }

        @Override
        public SecretUsage usage(String endpoint, StoreCandidate secret, LeaseTerms terms, long now) {
            throw failure;
        }

        @Override
        public void forget(String endpoint, String secretId) {
        }

        @Override
        public void recordQuota(String endpoint, String secretId,
                                dev.proxymanager.middleware.quota.UpstreamQuota quota, long now) {
            throw failure;
        }
    }

    private final FakeClock clock = new FakeClock();

    @Test
    void unreachableStoreWithoutFailoverDeniesAsUnavailable() {
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(new ThrowingStore(
                        new UsageStoreUnavailableException("usage store redis://127.0.0.1:6379 unavailable", null)))
                .withEndpoint(Fixtures.keys("api", 2).build()).build();
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(UnavailableCause.STORE_UNAVAILABLE);
        assertThat(d.reason()).isEqualTo("the usage store of 'api' is unavailable");
        assertThat(d.retryAfter()).isPositive();
    }

    @Test
    void storeErrorThatIsNotAnOutageNeverGrantsWithoutLimitChecks() {
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(new ThrowingStore(
                        new UsageStoreFailedException("usage store failed during acquire: script error", null)))
                .withEndpoint(Fixtures.keys("api", 3).withLimit(LimitConfig.of(1, Duration.ofHours(1))).build())
                .build();
        for (int i = 0; i < 4; i++) {
            AcquireResult.Denied d = denied(engine.acquire("api"));
            assertThat(d.cause()).isEqualTo(UnavailableCause.STORE_FAILED);
            assertThat(d.reason()).contains("no secret is handed out without limit checks");
        }
    }
}
