package dev.proxymanager.monitor.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The root {@code docker-compose.yml} as a JSON tree, with the variables of {@code .env} at hand for interpolation
 * (Compose's {@code ${VAR}}, {@code ${VAR:-default}} and the {@code $$} escape).
 */
record Compose(JsonNode root, Map<String, String> env) {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

    static Compose read() {
        try {
            JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(RepositoryFiles.read("docker-compose.yml"));
            return new Compose(root, readEnv());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> readEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : RepositoryFiles.read(".env").split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int equals = trimmed.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException(".env: not NAME=value: " + line);
            }
            env.put(trimmed.substring(0, equals), trimmed.substring(equals + 1));
        }
        return env;
    }

    JsonNode service(String name) {
        JsonNode service = root.path("services").path(name);
        if (service.isMissingNode()) {
            throw new AssertionError("docker-compose.yml has no service " + name);
        }
        return service;
    }

    /** The value with Compose's interpolation applied from {@code .env}; an unset variable without default fails. */
    String interpolate(String value) {
        Matcher matcher = VARIABLE.matcher(value);
        StringBuilder result = new StringBuilder();
        while (matcher.find()) {
            String replacement;
            if (matcher.group().equals("$$")) {
                replacement = "$";
            } else if (env.containsKey(matcher.group(1))) {
                replacement = env.get(matcher.group(1));
            } else if (matcher.group(2) != null) {
                replacement = matcher.group(2);
            } else {
                throw new AssertionError("docker-compose.yml uses ${" + matcher.group(1) + "}, which .env does not set");
            }
            matcher.appendReplacement(result, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(result);
        return result.toString();
    }

    /** A service's environment (map or list form), interpolated. */
    Map<String, String> environment(String service) {
        Map<String, String> values = new LinkedHashMap<>();
        JsonNode environment = service(service).path("environment");
        if (environment.isArray()) {
            environment.forEach(entry -> {
                String[] parts = entry.asText().split("=", 2);
                values.put(parts[0], parts.length > 1 ? interpolate(parts[1]) : "");
            });
        } else {
            environment.properties().forEach(e -> values.put(e.getKey(), interpolate(e.getValue().asText())));
        }
        return values;
    }

    /** A service's raw (not interpolated) environment values. */
    Map<String, String> rawEnvironment(String service) {
        Map<String, String> values = new LinkedHashMap<>();
        service(service).path("environment").properties().forEach(e -> values.put(e.getKey(), e.getValue().asText()));
        return values;
    }

    /** A bind mount or named volume of a service: host source (interpolated) and container target. */
    record Mount(String source, String target, boolean readOnly) {
        boolean isBind() {
            return source.startsWith(".") || source.startsWith("/");
        }
    }

    List<Mount> mounts(String service) {
        List<Mount> mounts = new ArrayList<>();
        for (JsonNode volume : service(service).path("volumes")) {
            if (volume.isTextual()) {
                String[] parts = interpolate(volume.asText()).split(":");
                mounts.add(new Mount(parts[0], parts[1], parts.length > 2 && parts[2].contains("ro")));
            } else {
                mounts.add(new Mount(interpolate(volume.path("source").asText()), volume.path("target").asText(),
                        volume.path("read_only").asBoolean(false)));
            }
        }
        return mounts;
    }

    /** Published ports of a service: container port → host port. */
    Map<Integer, Integer> ports(String service) {
        Map<Integer, Integer> ports = new LinkedHashMap<>();
        for (JsonNode port : service(service).path("ports")) {
            String[] parts = port.asText().split(":");
            int container = Integer.parseInt(parts[parts.length - 1].replace("/tcp", ""));
            ports.put(container, Integer.parseInt(parts[parts.length - 2]));
        }
        return ports;
    }
}
