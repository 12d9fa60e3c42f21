package dev.proxymanager.middleware;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.log.LogFields;
import dev.proxymanager.middleware.log.SecretUsage;
import dev.proxymanager.middleware.log.UsageHistory;
import dev.proxymanager.middleware.log.UsageHistoryException;
import dev.proxymanager.middleware.rotation.RotationEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts the uses the request log remembers back into the engine at start-up, so a restarted process does not hand
 * out a secret whose daily (or any still-open) window it already used up. Only for a usage store of this process:
 * a shared store (Redis) keeps the counts across restarts itself, and restoring them again would count them twice.
 */
final class UsageRestore {

    private static final Logger LOG = LoggerFactory.getLogger(UsageRestore.class);

    private UsageRestore() {
    }

    /**
     * Reads, per endpoint, the uses within its longest window before {@code now} and adds them to the engine. A log
     * that cannot be read is reported and skipped: the process starts with the counts it has.
     *
     * @return the number of uses restored
     */
    static long restore(RotationEngine engine, SecretsConfig config, UsageHistory history, Instant now) {
        long restored = 0;
        for (EndpointConfig endpoint : config.endpoints().values()) {
            Duration window = longestWindow(endpoint);
            if (window.isZero()) {
                continue; // no limits: nothing to count against
            }
            List<SecretUsage> uses;
            try {
                uses = history.usesSince(endpoint.name(), now.minus(window));
            } catch (UsageHistoryException e) {
                LOG.atWarn().setMessage("cannot restore usage from the request log; starting with fresh counts")
                        .addKeyValue(LogFields.ENDPOINT, endpoint.name()).addKeyValue("reason", e.getMessage()).log();
                continue;
            }
            for (SecretUsage u : uses) {
                List<Instant> past = new ArrayList<>(u.timestamps().size());
                for (Instant t : u.timestamps()) {
                    if (!t.isAfter(now)) { // a use "in the future" is clock skew between replicas: not ours to count
                        past.add(t);
                    }
                }
                try {
                    engine.restoreUsage(endpoint.name(), u.secretId(), past);
                    restored += past.size();
                } catch (IllegalArgumentException e) {
                    // the secret was removed from secrets.json since: its old uses bind nothing
                    LOG.atDebug().setMessage("skipping logged uses of a secret no longer configured")
                            .addKeyValue(LogFields.ENDPOINT, endpoint.name())
                            .addKeyValue(LogFields.SECRET_ID, u.secretId()).log();
                }
            }
        }
        if (restored > 0) {
            LOG.atInfo().setMessage("restored uses from the request log into open limit windows")
                    .addKeyValue("uses", restored).log();
        }
        return restored;
    }

    static Duration longestWindow(EndpointConfig endpoint) {
        Duration longest = Duration.ZERO;
        for (LimitConfig l : endpoint.limits()) {
            longest = max(longest, l.per());
        }
        for (SecretConfig s : endpoint.secrets()) {
            for (LimitConfig l : s.limits()) {
                longest = max(longest, l.per());
            }
        }
        return longest;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
