package dev.proxymanager.server.config;

/**
 * Thrown when the server configuration (YAML file, environment or flags) is invalid. The message names the setting,
 * the bad value and what is expected; it never contains a secret value.
 */
public class ServerConfigException extends RuntimeException {
    private final String setting;

    /** A problem with {@code setting}. */
    public ServerConfigException(String setting, String message) {
        super(setting + ": " + message);
        this.setting = setting;
    }

    /** A problem with {@code setting} caused by {@code cause}. */
    public ServerConfigException(String setting, String message, Throwable cause) {
        super(setting + ": " + message, cause);
        this.setting = setting;
    }

    /** The setting at fault, as named in server.yaml (e.g. {@code max_queue_size}). */
    public String setting() {
        return setting;
    }
}
