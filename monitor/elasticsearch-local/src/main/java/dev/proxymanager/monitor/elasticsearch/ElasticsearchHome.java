package dev.proxymanager.monitor.elasticsearch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The Elasticsearch home (lib/, modules/, plugins/) bundled in this jar by the build, unpacked once per machine
 * and version into {@code ${java.io.tmpdir}/proxy-manager-elasticsearch/}. The home is read-only for the node, so
 * one copy serves every node on the machine; each node's config, data and logs live in its own data directory.
 */
final class ElasticsearchHome {
    private static final String RESOURCE_DIR = "/dev/proxymanager/monitor/elasticsearch/";
    private static final String COMPLETE_MARKER = ".complete";
    /** Where Debian (package libzstd1) and other distributions keep zstd; the node links it dynamically. */
    private static final List<String> ZSTD_CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libzstd.so.1", "/usr/lib/aarch64-linux-gnu/libzstd.so.1",
            "/usr/lib64/libzstd.so.1", "/usr/lib/libzstd.so.1", "/lib/x86_64-linux-gnu/libzstd.so.1");

    private ElasticsearchHome() {
    }

    static String bundledVersion() {
        try (InputStream in = ElasticsearchHome.class.getResourceAsStream(RESOURCE_DIR + "local-elasticsearch.properties")) {
            if (in == null) {
                throw new LocalElasticsearchException("local-elasticsearch.properties is missing from the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unpacks the bundled home if this machine does not have it yet, and returns its path. */
    static synchronized Path provision() {
        String sha = readResource("elasticsearch-home.sha256").trim();
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "proxy-manager-elasticsearch");
        Path home = root.resolve(bundledVersion() + "-" + sha.substring(0, Math.min(12, sha.length())));
        if (Files.exists(home.resolve(COMPLETE_MARKER))) {
            return home;
        }
        try {
            Files.createDirectories(root);
            Path staging = Files.createTempDirectory(root, "unpacking-");
            // temp directories are private (0700); the node may run as another user (see RunAs) and must read it
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
            unzip(staging);
            linkZstd(staging);
            Files.writeString(staging.resolve(COMPLETE_MARKER), sha);
            try {
                Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                // another process unpacked the same bundle first: use theirs
                deleteTree(staging);
                if (!Files.exists(home.resolve(COMPLETE_MARKER))) {
                    throw new LocalElasticsearchException("could not install the Elasticsearch home at " + home
                            + ": " + e, e);
                }
            }
            return home;
        } catch (IOException e) {
            throw new LocalElasticsearchException("could not unpack the bundled Elasticsearch into " + root + ": " + e, e);
        }
    }

    private static void unzip(Path target) throws IOException {
        try (InputStream raw = ElasticsearchHome.class.getResourceAsStream(RESOURCE_DIR + "elasticsearch-home.zip")) {
            if (raw == null) {
                throw new LocalElasticsearchException("elasticsearch-home.zip is missing from the class path: build the "
                        + "module proxy-manager-elasticsearch-local with Maven (./mvnw package) to assemble it");
            }
            try (ZipInputStream zip = new ZipInputStream(raw)) {
                ZipEntry entry;
                while ((entry = zip.getNextEntry()) != null) {
                    Path out = target.resolve(entry.getName()).normalize();
                    if (!out.startsWith(target)) {
                        throw new IOException("zip entry escapes the target folder: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(zip, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
    }

    private static void linkZstd(Path home) throws IOException {
        Path zstd = ZSTD_CANDIDATES.stream().map(Path::of).filter(Files::exists).findFirst().orElseThrow(() ->
                new LocalElasticsearchException("libzstd is not installed (looked in " + ZSTD_CANDIDATES
                        + "); Elasticsearch needs it: on Debian or Ubuntu run 'apt-get install libzstd1'"));
        String platform = System.getProperty("os.arch").contains("aarch64") ? "linux-aarch64" : "linux-x64";
        Path dir = Files.createDirectories(home.resolve("lib/platform").resolve(platform));
        Files.createSymbolicLink(dir.resolve("libzstd.so"), zstd);
    }

    private static String readResource(String name) {
        try (InputStream in = ElasticsearchHome.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new LocalElasticsearchException(name + " is missing from the class path: build the module "
                        + "proxy-manager-elasticsearch-local with Maven (./mvnw package) to assemble it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
