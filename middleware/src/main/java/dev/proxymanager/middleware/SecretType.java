package dev.proxymanager.middleware;

/** What protects an endpoint: API keys sent with each request, or per-IP limits answered by proxies. */
public enum SecretType {
    /** API keys (secrets.json {@code "key"}). */
    KEY("key", "keys"),
    /** Proxies (secrets.json {@code "proxy"}). */
    PROXY("proxy", "proxies");

    private final String jsonName;
    private final String plural;

    SecretType(String jsonName, String plural) {
        this.jsonName = jsonName;
        this.plural = plural;
    }

    /** The name used in secrets.json. */
    public String jsonName() {
        return jsonName;
    }

    /** The plural used in messages ("all proxies of 'search' ..."). */
    public String plural() {
        return plural;
    }
}
