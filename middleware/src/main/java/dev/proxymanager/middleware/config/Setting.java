package dev.proxymanager.middleware.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.Objects;

/**
 * One setting's definition: how its value is written, its bounds and what an error says. Every reader of the setting
 * — secrets.json, the config records' constructors, {@code PUT /api/v1/settings}, server.yaml and the command line —
 * goes through the definition, so they accept the same values and refuse the others with the same message. The
 * definitions themselves are in {@link SettingDefinitions} (and, for server-only settings, in the server's config).
 * Immutable and threadsafe.
 *
 * @param <T> {@link Integer} for whole numbers, {@link Duration} for durations
 */
public final class Setting<T extends Comparable<? super T>> {

    private enum Kind { WHOLE_NUMBER, DURATION }

    private final String name;
    private final Kind kind;
    private final T min;
    private final T max;

    private Setting(String name, Kind kind, T min, T max) {
        this.name = Objects.requireNonNull(name, "name");
        this.kind = kind;
        this.min = Objects.requireNonNull(min, "min");
        this.max = max;
    }

    /** A whole number between {@code min} and {@code max}, both included; {@link Integer#MAX_VALUE}: no upper bound. */
    public static Setting<Integer> wholeNumber(String name, int min, int max) {
        return new Setting<>(name, Kind.WHOLE_NUMBER, min, max == Integer.MAX_VALUE ? null : max);
    }

    /** A duration &gt; 0 and at most {@code max}; {@code null}: no upper bound. */
    public static Setting<Duration> positiveDuration(String name, Duration max) {
        return new Setting<>(name, Kind.DURATION, Duration.ofMillis(1), max);
    }

    /** A duration &gt;= 0 (zero: off). */
    public static Setting<Duration> nonNegativeDuration(String name) {
        return new Setting<>(name, Kind.DURATION, Duration.ZERO, null);
    }

    /** The same definition under another name (server.yaml's {@code read_timeout} is the endpoints' {@code timeouts.read}). */
    public Setting<T> as(String otherName) {
        return new Setting<>(otherName, kind, min, max);
    }

    /** The setting's name, as a JSON path relative to where it sits ({@code timeouts.read}). */
    public String name() {
        return name;
    }

    /**
     * Reads the setting from a JSON or YAML value.
     *
     * @throws ConfigException at {@code path} when the value is of the wrong form or out of bounds
     */
    @SuppressWarnings("unchecked")
    public T read(JsonNode node, String path) {
        Objects.requireNonNull(node, "node");
        if (kind == Kind.WHOLE_NUMBER) {
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                throw new ConfigException(path, "must be a whole number, was " + SecretsParser.shown(node));
            }
            return check((T) Integer.valueOf(node.asInt()), path);
        }
        if (!node.isTextual()) {
            throw new ConfigException(path, Durations.EXPECTED + ", was " + SecretsParser.shown(node));
        }
        return parse(node.asText(), path);
    }

    /**
     * Reads the setting from text as typed on a command line.
     *
     * @throws ConfigException at {@code path} when the text is of the wrong form or out of bounds
     */
    @SuppressWarnings("unchecked")
    public T parse(String text, String path) {
        Objects.requireNonNull(text, "text");
        T value;
        if (kind == Kind.WHOLE_NUMBER) {
            try {
                value = (T) Integer.valueOf(text.strip());
            } catch (NumberFormatException e) {
                throw new ConfigException(path, "must be a whole number, was \"" + text + "\"");
            }
        } else {
            try {
                value = (T) Durations.parse(text);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(path, e.getMessage());
            }
        }
        return check(value, path);
    }

    /**
     * Checks the bounds of a value built in code (a record's constructor).
     *
     * @throws ConfigException naming this setting when the value is out of bounds
     * @throws NullPointerException when {@code value} is null
     */
    public T check(T value) {
        return check(value, name);
    }

    /**
     * Checks the bounds of a value read at {@code path}.
     *
     * @throws ConfigException at {@code path} when the value is out of bounds
     */
    public T check(T value, String path) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(min) < 0) {
            throw new ConfigException(path, (max != null && kind == Kind.WHOLE_NUMBER ? "must be between " + min + " and "
                    + max : lowerBound()) + ", was " + shown(value));
        }
        if (max != null && value.compareTo(max) > 0) {
            throw new ConfigException(path, (kind == Kind.WHOLE_NUMBER ? "must be between " + min + " and " + max
                    : "must be at most " + Durations.format((Duration) max)) + ", was " + shown(value));
        }
        return value;
    }

    private String lowerBound() {
        boolean zero = kind == Kind.WHOLE_NUMBER ? min.equals(0) : min.equals(Duration.ZERO);
        boolean one = kind == Kind.WHOLE_NUMBER ? min.equals(1) : min.equals(Duration.ofMillis(1));
        return zero ? "must be >= 0" : one ? "must be > 0" : "must be >= " + shown(min);
    }

    private String shown(T value) {
        return value instanceof Duration d ? "\"" + Durations.format(d) + "\"" : String.valueOf(value);
    }

    @Override
    public String toString() {
        return "Setting[" + name + "]";
    }
}
