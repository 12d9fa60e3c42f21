package dev.proxymanager.monitor.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.stream.Stream;

/**
 * Who the node runs as. Elasticsearch refuses to run as root, so a root JVM starts the node through
 * {@code setpriv} as an unprivileged user and hands that user the node's data directory.
 */
final class RunAs {
    private static final RunAs CURRENT_USER = new RunAs(null, -1, -1);

    private final String user;
    private final int uid;
    private final int gid;

    private RunAs(String user, int uid, int gid) {
        this.user = user;
        this.uid = uid;
        this.gid = gid;
    }

    static RunAs decide(String user, Path dataDirectory) {
        if (currentUid() != 0) {
            return CURRENT_USER;
        }
        int[] ids = lookUp(user);
        checkReachable(user, dataDirectory);
        if (Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "setpriv")).noneMatch(Files::isExecutable)) {
            throw new LocalElasticsearchException("running as root, the node must be started as user '" + user
                    + "' with setpriv, which is not on the PATH: install util-linux, or run as a non-root user");
        }
        return new RunAs(user, ids[0], ids[1]);
    }

    List<String> prefix() {
        if (user == null) {
            return List.of();
        }
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--");
    }

    /** Gives the node's user the data directory, so that the node can write its data, logs and temp files. */
    void handOver(Path dataDirectory) {
        if (user == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dataDirectory)) {
            for (Path p : paths.toList()) {
                Files.setAttribute(p, "unix:uid", uid);
                Files.setAttribute(p, "unix:gid", gid);
            }
        } catch (IOException e) {
            throw new LocalElasticsearchException("could not hand the data directory " + dataDirectory + " to user '"
                    + user + "': " + e, e);
        }
    }

    private static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            return -1; // not Linux: no privilege dropping needed or possible here
        }
    }

    private static int[] lookUp(String user) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 3 && f[0].equals(user)) {
                    return new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])};
                }
            }
        } catch (IOException e) {
            throw new LocalElasticsearchException("could not read /etc/passwd to look up user '" + user + "'", e);
        }
        throw new LocalElasticsearchException("Elasticsearch refuses to run as root and user '" + user
                + "' does not exist: choose an existing unprivileged user with withRunAsUser(...)");
    }

    /** Every folder above the data directory must be traversable by the node's user. */
    private static void checkReachable(String user, Path dataDirectory) {
        for (Path p = dataDirectory.getParent(); p != null; p = p.getParent()) {
            try {
                if (Files.exists(p) && !Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new LocalElasticsearchException("the data directory " + dataDirectory
                            + " is not reachable by user '" + user + "' (who runs the node, since Elasticsearch "
                            + "refuses root): " + p + " is not traversable by others. Choose a data directory "
                            + "under " + System.getProperty("java.io.tmpdir") + " or run as a non-root user");
                }
            } catch (IOException e) {
                throw new LocalElasticsearchException("could not read the permissions of " + p + ": " + e, e);
            }
        }
    }
}
