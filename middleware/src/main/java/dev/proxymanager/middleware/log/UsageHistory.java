package dev.proxymanager.middleware.log;

import java.time.Instant;
import java.util.List;

/**
 * Reads past uses of secrets back from the request log, so the engine can rebuild the counts of windows that are
 * still open (e.g. a daily limit) after a restart. A use is an attempt that went upstream with a secret: cache
 * hits and secret events do not count.
 *
 * <p>Implementations are threadsafe.
 */
public interface UsageHistory {

    /**
     * Uses of every secret on every endpoint at or after {@code since}.
     *
     * @return one entry per endpoint and secret id, sorted by endpoint then secret id
     * @throws UsageHistoryException if the log cannot be read
     */
    List<SecretUsage> usesSince(Instant since);

    /**
     * Uses of every secret of {@code endpoint} at or after {@code since}.
     *
     * @return one entry per secret id, sorted by secret id
     * @throws UsageHistoryException if the log cannot be read
     */
    List<SecretUsage> usesSince(String endpoint, Instant since);
}
