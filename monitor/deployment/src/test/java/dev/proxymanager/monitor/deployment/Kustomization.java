package dev.proxymanager.monitor.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code server/k8s/kustomization.yaml}: the manifests {@code kubectl apply -k server/k8s} applies and the images
 * it sets. {@link #render()} does what kustomize does with these two fields (its {@code images} transformer
 * replaces a container image's name and tag when the name matches), so tests see what a cluster gets.
 */
record Kustomization(Path directory, List<String> resources, Map<String, Image> images) {

    static final String DIRECTORY = "server/k8s";
    static final String FILE = "kustomization.yaml";

    /** One {@code images:} entry: the image name the manifests use and what kustomize puts in its place. */
    record Image(String name, String newName, String newTag) {
        String reference() {
            return (newName == null ? name : newName) + (newTag == null ? "" : ":" + newTag);
        }
    }

    static Kustomization read() {
        Path directory = RepositoryFiles.resolve(DIRECTORY);
        try {
            JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(directory.resolve(FILE).toFile());
            if (!root.path("apiVersion").asText().equals("kustomize.config.k8s.io/v1beta1")
                    || !root.path("kind").asText().equals("Kustomization")) {
                throw new IllegalArgumentException(FILE + ": not a kustomize.config.k8s.io/v1beta1 Kustomization");
            }
            List<String> resources = new ArrayList<>();
            root.path("resources").forEach(r -> resources.add(r.asText()));
            Map<String, Image> images = new LinkedHashMap<>();
            for (JsonNode image : root.path("images")) {
                Image entry = new Image(image.path("name").asText(), text(image, "newName"), text(image, "newTag"));
                if (images.put(entry.name(), entry) != null) {
                    throw new IllegalArgumentException(FILE + ": image " + entry.name() + " set twice");
                }
            }
            return new Kustomization(directory, List.copyOf(resources), Map.copyOf(images));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The manifests as written, strictly parsed, in the order kustomization.yaml lists them. */
    List<HasMetadata> manifests() {
        StrictKubernetesReader reader = new StrictKubernetesReader();
        List<HasMetadata> all = new ArrayList<>();
        for (String resource : resources) {
            all.addAll(reader.readFile(directory.resolve(resource)));
        }
        return all;
    }

    /** The manifests with the images set: what {@code kubectl apply -k} sends. */
    List<HasMetadata> render() {
        List<HasMetadata> rendered = manifests();
        for (Container container : containers(rendered)) {
            Image image = images.get(imageName(container.getImage()));
            if (image != null) {
                container.setImage(image.reference());
            }
        }
        return rendered;
    }

    static List<Container> containers(List<HasMetadata> resources) {
        List<Container> containers = new ArrayList<>();
        for (HasMetadata resource : resources) {
            if (resource instanceof Deployment deployment) {
                containers.addAll(deployment.getSpec().getTemplate().getSpec().getContainers());
                containers.addAll(deployment.getSpec().getTemplate().getSpec().getInitContainers());
            }
        }
        return containers;
    }

    /** {@code registry:5000/name:tag@sha256:…} → {@code registry:5000/name}. */
    static String imageName(String image) {
        String name = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
        int colon = name.lastIndexOf(':');
        return colon > name.lastIndexOf('/') ? name.substring(0, colon) : name;
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.path(field).asText() : null;
    }
}
