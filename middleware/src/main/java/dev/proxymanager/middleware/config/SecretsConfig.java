package dev.proxymanager.middleware.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The whole secrets.json: the usage store settings and the endpoints by name. Load with {@link #load(Path)} or
 * {@link #parse(String, Map)}; the format is documented in {@code docs/secrets.md}. Immutable and threadsafe.
 */
public record SecretsConfig(UsageStoreSettings usageStore, Map<String, EndpointConfig> endpoints) {

    /** The endpoint settings that may change while running ({@link #changeEndpoint}). */
    public static final Set<String> LIVE_ENDPOINT_FIELDS = SecretsParser.LIVE_ENDPOINT_FIELDS;

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
        return parse(json, System.getenv(), file);
    }

    /**
     * Parses and validates secrets.json text read from {@code file}, resolving {@code ${NAME}} references from
     * {@code env}. Secrets without an {@code id} get one from {@link SecretIds}, salted by {@code id_salt}, else
     * {@code env}'s {@value SecretIds#SALT_ENVIRONMENT_VARIABLE}, else the salt file beside {@code file}.
     *
     * @throws ConfigException naming the JSON path, the bad value and what is expected
     */
    public static SecretsConfig parse(String json, Map<String, String> env, Path file) {
        Objects.requireNonNull(file, "file");
        return new SecretsParser(Objects.requireNonNull(env, "env"), () -> SecretIds.besideFile(file))
                .parse(Objects.requireNonNull(json, "json"));
    }

    /**
     * Parses and validates secrets.json text that came from no file, resolving {@code ${NAME}} references from
     * {@code env}. Without {@code id_salt} or {@value SecretIds#SALT_ENVIRONMENT_VARIABLE}, ids derived for secrets
     * without an {@code id} hold for this process only ({@link SecretIds#processLocal()}).
     *
     * @throws ConfigException naming the JSON path, the bad value and what is expected
     */
    public static SecretsConfig parse(String json, Map<String, String> env) {
        return new SecretsParser(Objects.requireNonNull(env, "env"), SecretIds::processLocal)
                .parse(Objects.requireNonNull(json, "json"));
    }

    /**
     * {@code current} with the settings in {@code changes} — any of {@link #LIVE_ENDPOINT_FIELDS}, written
     * as in secrets.json — changed, each validated by the same definitions as secrets.json. For
     * {@code PUT /api/v1/settings}.
     *
     * @param path the JSON path of {@code changes}, for messages ({@code endpoints.github})
     * @throws ConfigException naming the JSON path, the bad value and what is expected
     */
    public static EndpointConfig changeEndpoint(EndpointConfig current, JsonNode changes, String path) {
        return new SecretsParser(Map.of(), SecretIds::processLocal).changeEndpoint(current, changes, path);
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
