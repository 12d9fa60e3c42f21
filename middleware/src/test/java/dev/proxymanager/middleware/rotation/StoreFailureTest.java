package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.LeaseTerms;
import dev.proxymanager.middleware.store.SecretUsage;
import dev.proxymanager.middleware.store.StoreCandidate;
import dev.proxymanager.middleware.store.StoreDecision;
import dev.proxymanager.middleware.store.UsageStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static dev.proxymanager.middleware.rotation.Fixtures.denied;
import static dev.proxymanager.middleware.rotation.Fixtures.granted;
import static org.assertj.core.api.Assertions.assertThat;

/** Seed C: when the store of counts fails, serve with all secrets (fail-open) or refuse (fail-closed). */
class StoreFailureTest {

    /** A store whose backend is down: every hot-path call fails as a network store's would. */
    private static final class UnreachableStore implements UsageStore {
        @Override
        public StoreDecision acquire(String endpoint, StoreCandidate[] candidates, int count, LeaseTerms terms,
                                     String leaseId, long now) {
            throw new IllegalStateException("connection refused: 127.0.0.1:6379");
        }

        @Override
        public Availability release(String endpoint, StoreCandidate secret, LeaseTerms terms, String leaseId, long now,
                                    long cooldownUntil, boolean remove) {
            throw new IllegalStateException("connection refused: 127.0.0.1:6379");
        }

        @Override
        public Availability restamp(String endpoint, StoreCandidate secret, String leaseId, long usedAt, long now) {
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
            throw new IllegalStateException("connection refused: 127.0.0.1:6379");
        }

        @Override
        public void forget(String endpoint, String secretId) {
        }
    }

    private final FakeClock clock = new FakeClock();

    @Test
    void failOpenKeepsServingAndRotatesSecrets() {
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(new UnreachableStore())
                .withEndpoint(Fixtures.keys("api", 3).withLimit(LimitConfig.of(1, Duration.ofHours(1))).build()).build();
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            var lease = granted(engine.acquire("api"));
            used.add(lease.secretId());
            engine.release(lease, Outcome.status(429)); // a failing release is logged, not thrown
        }
        assertThat(used).containsExactlyInAnyOrder("k1", "k2", "k3");
    }

    @Test
    void failClosedDeniesNamingTheStore() {
        RotationEngine engine = RotationEngine.builder().withClock(clock).withStore(new UnreachableStore())
                .withStoreFailOpen(false).withEndpoint(Fixtures.keys("api", 2).build()).build();
        AcquireResult.Denied d = denied(engine.acquire("api"));
        assertThat(d.cause()).isEqualTo(AcquireResult.Cause.STORE_UNAVAILABLE);
        assertThat(d.reason()).isEqualTo("the usage store of 'api' is unavailable (IllegalStateException); fail-closed");
        assertThat(d.retryAfter()).isPositive();
    }
}
