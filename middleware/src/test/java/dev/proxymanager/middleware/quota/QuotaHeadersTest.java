package dev.proxymanager.middleware.quota;

import dev.proxymanager.middleware.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QuotaHeadersTest {

    private static final long S = 1_000_000_000L;
    /** 2026-12-05T00:00:00Z on the engine's epoch-anchored clock. */
    private static final long NOW = 1_796_428_800L * S;

    private static HttpHeaders headers(String... nameValue) {
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (int i = 0; i < nameValue.length; i += 2) {
            b.add(nameValue[i], nameValue[i + 1]);
        }
        return b.build();
    }

    private static QuotaReading auto(String... nameValue) {
        return QuotaHeaders.AUTO.read(headers(nameValue), NOW);
    }

    @Test
    void readsGitHubStyleWithEpochReset() {
        QuotaReading r = auto("X-RateLimit-Limit", "5000", "x-ratelimit-remaining", "4987",
                "X-RateLimit-Reset", "1796430600");
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("", 5000, 4987, 1_796_430_600L * S, NOW));
        assertThat(r.malformed()).isZero();
    }

    @Test
    void readsResetAsSecondsFromNowBelowTheEpochThreshold() {
        QuotaReading r = auto("X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "60");
        assertThat(r.binding().resetAt()).isEqualTo(NOW + 60 * S);
        assertThat(r.binding().limit()).isEqualTo(-1);
    }

    @Test
    void prefersDiscordResetAfterWithFractionsOverReset() {
        QuotaReading r = auto("X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "0",
                "X-RateLimit-Reset", "1796428801.5", "X-RateLimit-Reset-After", "0.25");
        assertThat(r.binding()).isEqualTo(new UpstreamQuota("", 5, 0, NOW + S / 4, NOW));
    }

    @Test
    void readsEpochResetWithFractions() {
        QuotaReading r = auto("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1796428801.5");
        assertThat(r.binding().resetAt()).isEqualTo(NOW + 3 * S / 2);
    }

    @Test
    void readsUnprefixedRateLimitFields() {
        QuotaReading r = auto("RateLimit-Limit", "100", "RateLimit-Remaining", "7", "RateLimit-Reset", "30");
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("", 100, 7, NOW + 30 * S, NOW));
    }

    @Test
    void readsIetfNamedPoliciesAndBindsOnTheExhaustedOne() {
        QuotaReading r = auto("RateLimit-Policy", "\"burst\";q=100;w=60, \"day\";q=1000;w=86400",
                "RateLimit", "\"burst\";r=0;t=30, \"day\";r=500;t=3600");
        assertThat(r.quotas()).containsExactly(
                new UpstreamQuota("burst", 100, 0, NOW + 30 * S, NOW),
                new UpstreamQuota("day", 1000, 500, NOW + 3600 * S, NOW));
        assertThat(r.binding().policy()).isEqualTo("burst");
    }

    @Test
    void bindsOnTheLatestResetAmongExhaustedQuotas() {
        QuotaReading r = auto("RateLimit", "\"a\";r=0;t=5, \"b\";r=0;t=50, \"c\";r=9;t=1");
        assertThat(r.binding().policy()).isEqualTo("b");
    }

    @Test
    void readsIetfPolicyWithoutQuotaAsUnknownLimit() {
        QuotaReading r = auto("RateLimit", "default;r=4;t=10");
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("default", -1, 4, NOW + 10 * S, NOW));
    }

    @Test
    void readsTheEarlierDraftDictionaryForm() {
        QuotaReading r = auto("RateLimit", "limit=100, remaining=50, reset=30");
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("", 100, 50, NOW + 30 * S, NOW));
    }

    @Test
    void readsRetryAfterSecondsAsNothingLeftUntilThen() {
        QuotaReading r = auto("Retry-After", "120");
        assertThat(r.binding()).isEqualTo(new UpstreamQuota("retry-after", -1, 0, NOW + 120 * S, NOW));
    }

    @Test
    void readsRetryAfterHttpDate() {
        QuotaReading r = auto("Retry-After", "Sat, 05 Dec 2026 00:01:00 GMT");
        assertThat(r.binding().resetAt()).isEqualTo(NOW + 60 * S);
    }

    @Test
    void severalStylesInOneResponseAllCount() {
        QuotaReading r = auto("X-RateLimit-Remaining", "10", "X-RateLimit-Reset", "5",
                "RateLimit", "\"search\";r=2;t=40");
        assertThat(r.quotas()).hasSize(2);
        assertThat(r.binding().policy()).isEqualTo("search");
    }

    @Test
    void ignoresAndCountsMalformedValues() {
        QuotaReading r = auto("X-RateLimit-Limit", "lots", "X-RateLimit-Remaining", "-1",
                "X-RateLimit-Reset", "soon", "RateLimit", "\"a\";r=x;t=1, \"b", "Retry-After", "tomorrow");
        assertThat(r.quotas()).isEmpty();
        assertThat(r.malformed()).isEqualTo(5);
        assertThat(r.binding()).isNull();
    }

    @Test
    void keepsWellFormedPoliciesBesideAMalformedOne() {
        QuotaReading r = auto("RateLimit", "\"a\";r=x;t=1, \"b\";r=3;t=2");
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("b", -1, 3, NOW + 2 * S, NOW));
        assertThat(r.malformed()).isEqualTo(1);
    }

    @Test
    void aRemainingWithoutResetIsReportedButNeverBinds() {
        QuotaReading r = auto("X-RateLimit-Remaining", "0");
        assertThat(r.quotas()).hasSize(1);
        assertThat(r.binding()).isNull();
    }

    @Test
    void offReadsNothing() {
        assertThat(QuotaHeaders.OFF.read(headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "5"), NOW))
                .isEqualTo(QuotaReading.NONE);
    }

    @Test
    void explicitMappingReadsOnlyTheNamedHeaders() {
        QuotaHeaders m = QuotaHeaders.mapping("X-Quota-Limit", "X-Quota-Left", "X-Quota-Reset",
                QuotaHeaders.ResetFormat.SECONDS);
        QuotaReading r = m.read(headers("X-Quota-Limit", "10", "X-Quota-Left", "2", "X-Quota-Reset", "1796430600",
                "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "9"), NOW);
        assertThat(r.quotas()).containsExactly(new UpstreamQuota("", 10, 2, NOW + 1_796_430_600L * S, NOW));
    }

    @Test
    void explicitEpochMappingTakesSmallNumbersAsEpochToo() {
        QuotaHeaders m = QuotaHeaders.mapping(null, "Left", "Reset", QuotaHeaders.ResetFormat.EPOCH_SECONDS);
        assertThat(m.read(headers("Left", "0", "Reset", "5"), NOW).binding().resetAt()).isEqualTo(5 * S);
    }

    @Test
    void noHeadersIsNone() {
        assertThat(auto()).isEqualTo(QuotaReading.NONE);
        assertThat(auto("Content-Type", "text/plain")).isEqualTo(QuotaReading.NONE);
    }

    @Test
    void minusNeverGoesBelowZero() {
        UpstreamQuota q = new UpstreamQuota("", 10, 3, NOW + S, NOW);
        assertThat(q.minus(2).remaining()).isEqualTo(1);
        assertThat(q.minus(5).remaining()).isZero();
        assertThat(List.of(q.liveAt(NOW), q.liveAt(NOW + S))).containsExactly(true, false);
    }

    @Test
    void readsACallsCostFromTheNamedHeader() {
        assertThat(QuotaHeaders.cost(headers("X-Points-Used", " 12 "), "x-points-used")).isEqualTo(12);
        assertThat(QuotaHeaders.cost(headers("X-Points-Used", "12"), null)).isEqualTo(-1);
        assertThat(QuotaHeaders.cost(headers(), "X-Points-Used")).isEqualTo(-1);
        assertThat(QuotaHeaders.cost(headers("X-Points-Used", "1.5"), "X-Points-Used"))
                .isEqualTo(QuotaHeaders.MALFORMED_COST);
        assertThat(QuotaReading.NONE.withCost(QuotaHeaders.MALFORMED_COST))
                .isEqualTo(new QuotaReading(List.of(), 1, -1));
        assertThat(QuotaReading.NONE.withCost(3).cost()).isEqualTo(3);
    }

    @Test
    void aPolicyNameLongerThan64CharactersIsMalformed() {
        QuotaReading r = auto("RateLimit", "\"" + "p".repeat(65) + "\";r=0;t=5, \"" + "q".repeat(64) + "\";r=1;t=5");
        assertThat(r.quotas()).extracting(UpstreamQuota::policy).containsExactly("q".repeat(64));
        assertThat(r.malformed()).isEqualTo(1);
    }
}
