package dev.proxymanager.middleware.config;

/**
 * A secrets configuration that cannot be used. The message names the JSON path, the bad value (never a secret's
 * value) and what is expected, e.g. {@code endpoints.search.limits[0].requests must be > 0, was -5}.
 */
public class ConfigException extends IllegalArgumentException {

    private final String path;
    private final String reason;

    /** An error at {@code path} (a JSON path such as {@code endpoints.github.limits[0]}; empty for the file). */
    public ConfigException(String path, String message) {
        super(path == null || path.isEmpty() ? message : path + " " + message);
        this.path = path == null ? "" : path;
        this.reason = message;
    }

    /** An error at {@code path} caused by {@code cause}. */
    public ConfigException(String path, String message, Throwable cause) {
        this(path, message);
        initCause(cause);
    }

    /** The message without the path: what is wrong with the value ({@code must be > 0, was -5}). */
    public String reason() {
        return reason;
    }

    /** The JSON path of the bad setting; empty when the whole file is at fault. */
    public String path() {
        return path;
    }
}
