package dev.proxymanager.middleware.config;

import java.util.List;
import java.util.Objects;

/**
 * Secrets that share one account's quota (an endpoint's {@code "groups"}): a use of any member counts against the
 * group's limits too, atomically with the member's own. Immutable and threadsafe.
 *
 * @param name the group's name, unique in its endpoint
 * @param limits the group's limits (no {@code cooldown}: a usage cap on a group is not supported)
 * @param secretIds the members' ids; a secret belongs to at most one group
 */
public record QuotaGroup(String name, List<LimitConfig> limits, List<String> secretIds) {

    public QuotaGroup {
        Objects.requireNonNull(name, "name");
        limits = List.copyOf(limits);
        secretIds = List.copyOf(secretIds);
        if (name.isBlank()) {
            throw new ConfigException("groups", "names must not be blank");
        }
        if (limits.isEmpty()) {
            throw new ConfigException("limits", "must not be empty");
        }
        for (int i = 0; i < limits.size(); i++) {
            if (limits.get(i).hasCooldown()) {
                throw new ConfigException("limits[" + i + "].cooldown",
                        "is not supported on a group limit");
            }
            if (limits.get(i).match() != null) {
                throw new ConfigException("limits[" + i + "].match", "is not supported on a group limit (a group"
                        + " counts every call of its members)");
            }
        }
        if (secretIds.isEmpty()) {
            throw new ConfigException("secrets", "must not be empty");
        }
    }

    /** The id the usage store keeps the group's uses under; cannot clash with a secret's. */
    public String storeId() {
        return "~group:" + name;
    }
}
