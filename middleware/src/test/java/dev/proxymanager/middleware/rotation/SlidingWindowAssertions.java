package dev.proxymanager.middleware.rotation;

import static org.assertj.core.api.Assertions.assertThat;

/** Checks on recorded grant times that a sliding-window limit held. */
final class SlidingWindowAssertions {

    private SlidingWindowAssertions() {
    }

    /**
     * Fails unless every {@code requests + 1} consecutive uses in {@code sorted} (grant times in nanoseconds, in
     * order) span at least {@code per} nanoseconds, i.e. no window of {@code per} ever held more than {@code requests}.
     */
    static void assertWithinLimit(String id, long[] sorted, int requests, long per) {
        for (int i = 0; i + requests < sorted.length; i++) {
            // the use after the next `requests` uses must be at least one window later
            assertThat(sorted[i + requests] - sorted[i])
                    .as("%s: %d uses within %d ns starting at index %d", id, requests + 1, per, i)
                    .isGreaterThanOrEqualTo(per);
        }
    }
}
