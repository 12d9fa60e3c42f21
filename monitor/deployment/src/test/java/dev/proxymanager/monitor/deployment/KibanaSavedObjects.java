package dev.proxymanager.monitor.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Every saved object of every {@code monitor/kibana/*.ndjson} file, one JSON object per non-blank line. */
record KibanaSavedObjects(List<JsonNode> objects) {

    static final String DIRECTORY = "monitor/kibana";

    static KibanaSavedObjects read() {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> objects = new ArrayList<>();
        try (Stream<Path> files = Files.list(RepositoryFiles.resolve(DIRECTORY))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".ndjson")).sorted().toList()) {
                for (String line : Files.readAllLines(file)) {
                    if (!line.isBlank()) {
                        objects.add(json.readTree(line));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new KibanaSavedObjects(List.copyOf(objects));
    }

    List<JsonNode> ofType(String type) {
        return objects.stream().filter(o -> o.path("type").asText().equals(type)).toList();
    }

    Optional<JsonNode> find(String type, String id) {
        return objects.stream()
                .filter(o -> o.path("type").asText().equals(type) && o.path("id").asText().equals(id))
                .findFirst();
    }

    JsonNode get(String type, String id) {
        return find(type, id).orElseThrow(() -> new AssertionError("no saved object " + type + "/" + id));
    }

    /** The id of the object that {@code object}'s reference named {@code name} points at. */
    static Optional<JsonNode> reference(JsonNode object, String name) {
        for (JsonNode reference : object.path("references")) {
            if (reference.path("name").asText().equals(name)) {
                return Optional.of(reference);
            }
        }
        return Optional.empty();
    }
}
