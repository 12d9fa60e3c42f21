package dev.proxymanager.middleware.config;

import java.util.List;
import java.util.Objects;

/**
 * One API key or proxy. {@code id} is what logs, stats and stores show; when secrets.json gives none it is the
 * masked value. {@link #toString()} never shows the value. Immutable and threadsafe.
 *
 * @param id stable identifier (given, or the masked value)
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

    /** A secret whose id is its masked value, without limits of its own. */
    public static SecretConfig of(String value) {
        return new SecretConfig(SecretMasking.mask(value), value, List.of());
    }

    /** The value's masked form. */
    public String maskedValue() {
        return SecretMasking.mask(value);
    }

    @Override
    public String toString() {
        return "SecretConfig[id=" + id + ", value=" + maskedValue() + ", limits=" + limits + "]";
    }
}
