package dev.proxymanager.middleware.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The whole secrets.json: the usage store settings and the endpoints by name. Load with {@link #load(Path)} or
 * {@link #parse(String, Map)}; the format is documented in {@code docs/secrets.md}. Immutable and threadsafe.
 */
public record SecretsConfig(UsageStoreSettings usageStore, Map<String, EndpointConfig> endpoints) {

    public SecretsConfig {
        Objects.requireNonNull(usageStore, "usageStore");
        endpoints = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(endpoints));
    }

    /**
     * Reads and validates a secrets file, resolving {@code ${NAME}} references from the process environment.
     *
     * @throws ConfigException when the file cannot be read or is invalid (message names the JSON path)
     */
    public static SecretsConfig load(Path file) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read secrets file " + file + ": " + e.getMessage(), e);
        }
        return parse(json, System.getenv());
    }

    /**
     * Parses and validates secrets.json text, resolving {@code ${NAME}} references from {@code env}.
     *
     * @throws ConfigException naming the JSON path, the bad value and what is expected
     */
    public static SecretsConfig parse(String json, Map<String, String> env) {
        return new SecretsParser(Objects.requireNonNull(env, "env")).parse(Objects.requireNonNull(json, "json"));
    }

    /**
     * The endpoint called {@code name}.
     *
     * @throws IllegalArgumentException listing the known endpoints when there is none by that name
     */
    public EndpointConfig endpoint(String name) {
        EndpointConfig e = endpoints.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no endpoint named '" + name + "'; known endpoints: " + endpoints.keySet());
        }
        return e;
    }
}
