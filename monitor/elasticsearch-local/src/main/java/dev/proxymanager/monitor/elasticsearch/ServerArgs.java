package dev.proxymanager.monitor.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Produces the serialised ServerArgs the node reads from stdin, in a short-lived JVM over the node's jars. */
final class ServerArgs {
    private static final String WRITER = "dev.proxymanager.monitor.elasticsearch.standin.ServerArgsWriter";

    private ServerArgs() {
    }

    static byte[] write(Path java, Path home, NodeLayout layout) {
        String classPath = home.resolve("lib") + "/*:" + home.resolve("lib/tools/ansi-console/proxy-manager-es-standins.jar");
        Path log = layout.root().resolve("serverargs.log");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-Xshare:auto", "-cp", classPath, WRITER,
                home.toString(), layout.configDirectory().toString(), layout.serverArgsFile().toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        try {
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new LocalElasticsearchException("writing the node's ServerArgs took over 60 s; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new LocalElasticsearchException("writing the node's ServerArgs failed (exit " + p.exitValue()
                        + "):\n" + LocalElasticsearch.readTail(log, 30));
            }
            return Files.readAllBytes(layout.serverArgsFile());
        } catch (IOException e) {
            throw new LocalElasticsearchException("could not write the node's ServerArgs: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalElasticsearchException("interrupted while writing the node's ServerArgs", e);
        }
    }
}
