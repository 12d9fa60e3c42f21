package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.rotation.SecretState;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.rotation.SecretStats.WindowUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EngineSecretStatusesTest {

    private static SecretStats stats(String endpoint, String id, SecretState state, long total, WindowUsage... windows) {
        return new SecretStats(endpoint, id, "k…" + id, List.of(windows), total, 0, total, 0, 0, state, null,
                Instant.EPOCH);
    }

    @Test
    void showsTheLimitClosestToBeingReached() {
        WindowUsage perMinute = new WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 29);
        WindowUsage perQuarter = new WindowUsage(LimitConfig.of(500, Duration.ofMinutes(15)), 100);

        SecretStatus s = EngineSecretStatuses.toStatus(stats("search", "p-1", SecretState.READY, 100, perQuarter, perMinute));

        assertThat(s).isEqualTo(new SecretStatus("search", "p-1", dev.proxymanager.server.dashboard.SecretState.READY,
                29, 30, Duration.ofMinutes(1)));
    }

    @Test
    void aSecretAtItsLimitShowsAsCoolingDownAndOneWithoutLimitsShowsItsUses() {
        WindowUsage full = new WindowUsage(LimitConfig.of(10, Duration.ofSeconds(60)), 10);
        Map<String, List<SecretStats>> engine = Map.of(
                "api", List.of(stats("api", "k-1", SecretState.RATE_LIMITED, 10, full)),
                "open", List.of(stats("open", "k-2", SecretState.REMOVED, 7)));

        List<SecretStatus> rows = new EngineSecretStatuses(() -> List.of("api", "open"), engine::get).get();

        assertThat(rows).containsExactly(
                new SecretStatus("api", "k-1", dev.proxymanager.server.dashboard.SecretState.COOLING_DOWN, 10, 10,
                        Duration.ofSeconds(60)),
                SecretStatus.unlimited("open", "k-2", dev.proxymanager.server.dashboard.SecretState.REMOVED, 7));
        assertThat(rows.get(1).limited()).isFalse();
    }
}
