package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.rotation.SecretStats.WindowUsage;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.UnavailableCause;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EngineSecretStatusesTest {

    private static SecretStats stats(String endpoint, String id, Availability availability, long total,
                                     WindowUsage... windows) {
        List<WindowUsage> w = List.of(windows);
        return new SecretStats(endpoint, id, "k…" + id, w, total, 0, total, 0, 0, availability.cause(),
                SecretStats.closestToBinding(w, availability), null, Instant.EPOCH);
    }

    private static final Availability READY = new Availability(0, UnavailableCause.READY);

    @Test
    void showsTheLimitClosestToBindingNotTheFirstLongWindow() {
        // given 26 uses against 500 per 15 min (listed first) and 30 per minute
        WindowUsage perQuarter = new WindowUsage(LimitConfig.of(500, Duration.ofMinutes(15)), 26);
        WindowUsage perMinute = new WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 26);

        // when
        SecretStatus s = EngineSecretStatuses.toStatus(stats("search", "p-1", READY, 26, perQuarter, perMinute));

        // then
        assertThat(s).isEqualTo(new SecretStatus("search", "p-1", UnavailableCause.READY, 26, 30,
                Duration.ofMinutes(1)));
    }

    @Test
    void fewestUsesLeftBindsFirstEvenWhenAnotherWindowIsFuller() {
        // 490/500 leaves 10, 27/30 leaves 3: the minute binds first though it is the less full one
        WindowUsage perQuarter = new WindowUsage(LimitConfig.of(500, Duration.ofMinutes(15)), 490);
        WindowUsage perMinute = new WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 27);

        SecretStatus s = EngineSecretStatuses.toStatus(stats("search", "p-1", READY, 490, perQuarter, perMinute));

        assertThat(s.limit()).isEqualTo(30);
    }

    @Test
    void aSecretAtItsLimitShowsThatCauseAndTheLimitThatBindsAndOneWithoutLimitsShowsItsUses() {
        // given both windows full; the store says the 15-min one (index 1) frees last
        WindowUsage perMinute = new WindowUsage(LimitConfig.of(10, Duration.ofSeconds(60)), 10);
        WindowUsage perQuarter = new WindowUsage(LimitConfig.of(100, Duration.ofMinutes(15)), 100);
        Map<String, List<SecretStats>> engine = Map.of(
                "api", List.of(stats("api", "k-1", Availability.atLimit(1, 1), 100, perMinute, perQuarter)),
                "open", List.of(stats("open", "k-2", new Availability(Long.MAX_VALUE, UnavailableCause.REMOVED), 7)));

        // when
        List<SecretStatus> rows = new EngineSecretStatuses(() -> List.of("api", "open"), engine::get).get();

        // then
        assertThat(rows).containsExactly(
                new SecretStatus("api", "k-1", UnavailableCause.AT_LIMIT, 100, 100, Duration.ofMinutes(15)),
                SecretStatus.unlimited("open", "k-2", UnavailableCause.REMOVED, 7));
        assertThat(rows.get(1).limited()).isFalse();
    }

    @Test
    void aRouteBucketsRowCarriesTheUpstreamsReportForItsCalls() {
        WindowUsage perHour = new WindowUsage(LimitConfig.of(5000, Duration.ofHours(1)), 12);
        WindowUsage searchPerMinute = new WindowUsage(LimitConfig.of(30, Duration.ofMinutes(1)), 2);
        SecretStats.UpstreamQuotaView search = new SecretStats.UpstreamQuotaView("", 30, 0,
                Instant.parse("2026-12-05T00:11:00Z"), Instant.parse("2026-12-05T00:10:20Z"));
        SecretStats s = new SecretStats("github", "gh-1", "g…1", List.of(perHour), 12, 0, 12, 0, 0,
                UnavailableCause.READY, perHour, null, Instant.EPOCH, null, null,
                List.of(new SecretStats.RouteUsage("GET /search/*", List.of(searchPerMinute), search)));

        SecretStatus row = EngineSecretStatuses.toStatus(s);

        assertThat(row.upstream()).isNull();
        assertThat(row.routes()).containsExactly(
                new SecretStatus.RouteWindow("GET /search/*", 2, 30, Duration.ofMinutes(1), search));
    }
}
