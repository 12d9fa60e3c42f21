package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.config.LimitConfig;

import java.time.Instant;
import java.util.List;

/**
 * One secret's numbers at one moment. Identified by id or masked value only. Immutable and threadsafe.
 *
 * @param endpoint endpoint name
 * @param secretId id, or masked value when the secret has no id
 * @param maskedValue the value's masked form
 * @param windows uses in the current window of each limit (endpoint limits first, then the secret's own)
 * @param totalUses uses since the store started or the secret was added
 * @param inUse leases held now (0 when leases are off)
 * @param successes successful outcomes reported to this engine
 * @param failures failed outcomes reported to this engine
 * @param consecutiveFailures failures since the last success
 * @param state the state now
 * @param coolingDownUntil end of the cooldown, or {@code null}
 * @param nextAvailable when it can next be handed out ({@code null} when removed)
 */
public record SecretStats(String endpoint, String secretId, String maskedValue, List<WindowUsage> windows,
                          long totalUses, int inUse, long successes, long failures, int consecutiveFailures,
                          SecretState state, Instant coolingDownUntil, Instant nextAvailable) {

    public SecretStats {
        windows = List.copyOf(windows);
    }

    /** Uses of one limit's current window. */
    public record WindowUsage(LimitConfig limit, int uses) {
    }
}
