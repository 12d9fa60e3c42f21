package dev.proxymanager.monitor.deployment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root, where the deployment files under test live (set by the module's Surefire config). */
final class RepositoryFiles {

    private RepositoryFiles() {
    }

    static Path root() {
        String configured = System.getProperty("deployment.root");
        Path root = configured != null ? Path.of(configured) : Path.of("../..");
        root = root.toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("mvnw"))) {
            throw new IllegalStateException("deployment.root must be the repository root, was " + root);
        }
        return root;
    }

    static Path resolve(String relative) {
        return root().resolve(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
