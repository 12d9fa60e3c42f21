package dev.proxymanager.middleware.config;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where usage counts, leases and cooldowns live. Defaults: in memory, fail-open, lease TTL 60 s.
 * Immutable and threadsafe.
 *
 * @param type {@code memory} or {@code redis}
 * @param uri the store's address (redis only; may be {@code null} for memory)
 * @param failOpen when the store cannot be reached: {@code true} (fail-open) serves requests with all secrets,
 *                 {@code false} (fail-closed) refuses them
 * @param leaseTtl default lease time-to-live for endpoints that do not set {@code lease_ttl}
 */
public record UsageStoreSettings(String type, URI uri, boolean failOpen, Duration leaseTtl) {

    /** In memory, fail-open, 60 s leases. */
    public static final UsageStoreSettings DEFAULT = new UsageStoreSettings("memory", null, true, Duration.ofSeconds(60));

    public UsageStoreSettings {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(leaseTtl, "leaseTtl");
        if (!type.equals("memory") && !type.equals("redis")) {
            throw new IllegalArgumentException("type must be one of [memory, redis], was \"" + type + "\"");
        }
        if (type.equals("redis") && uri == null) {
            throw new IllegalArgumentException("uri is required for a redis usage store");
        }
        SettingDefinitions.LEASE_TTL.check(leaseTtl, "lease_ttl");
    }

    @Override
    public String toString() {
        // The URI may carry a password (redis://:pw@host).
        return "UsageStoreSettings[type=" + type + ", uri=" + (uri == null ? null : SecretMasking.maskUri(uri.toString()))
                + ", failOpen=" + failOpen + ", leaseTtl=" + leaseTtl + "]";
    }
}
