package dev.proxymanager.middleware.config;

import java.util.List;
import java.util.Objects;

/**
 * One API key or proxy. {@code id} is what logs, stats, metrics and stores (Redis keys) show; when secrets.json gives
 * none it is derived from the value by {@link SecretIds}. {@link #toString()} never shows the value. Immutable and
 * threadsafe.
 *
 * @param id stable identifier (given, or derived by {@link SecretIds})
 * @param value the clear key or proxy URL, for the transport only
 * @param limits limits of this secret on top of its endpoint's
 */
public record SecretConfig(String id, String value, List<LimitConfig> limits) {

    public SecretConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(value, "value");
        limits = List.copyOf(limits);
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        if (value.isEmpty()) {
            throw new IllegalArgumentException("value of secret " + id + " must not be empty");
        }
    }

    /** The value's masked form, for display. */
    public String maskedValue() {
        return SecretMasking.mask(value);
    }

    @Override
    public String toString() {
        return "SecretConfig[id=" + id + ", value=" + maskedValue() + ", limits=" + limits + "]";
    }
}
