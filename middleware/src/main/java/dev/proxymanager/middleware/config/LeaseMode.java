package dev.proxymanager.middleware.config;

/** Whether a handed-out secret is held by its caller until released. */
public enum LeaseMode {
    /** No holding: any number of callers may use a secret at once (the default). */
    NONE("none"),
    /** One holder at a time. */
    EXCLUSIVE("exclusive"),
    /** Up to {@code max_holders} holders at a time. */
    SHARED("shared");

    private final String jsonName;

    LeaseMode(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The name used in secrets.json. */
    public String jsonName() {
        return jsonName;
    }
}
