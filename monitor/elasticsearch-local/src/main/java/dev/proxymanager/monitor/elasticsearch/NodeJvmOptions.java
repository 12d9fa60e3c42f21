package dev.proxymanager.monitor.elasticsearch;

import java.nio.file.Path;
import java.util.List;

/**
 * The node's JVM options: what the distribution's launcher would pass (module path, native access, the patched
 * entitlement bridge), minus what needs modules that are not on Maven Central (the vector library).
 */
final class NodeJvmOptions {
    private NodeJvmOptions() {
    }

    static List<String> forNode(Path home, NodeLayout layout, String heapSize) {
        String version = LocalElasticsearch.bundledVersion();
        return List.of(
                "-Xms" + heapSize, "-Xmx" + heapSize, "-XX:+UseG1GC", "-Xss1m",
                "-Des.networkaddress.cache.ttl=60", "-Des.networkaddress.cache.negative.ttl=10",
                "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-Djna.nosys=true",
                "-XX:-OmitStackTraceInFastThrow",
                "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true",
                "-Dio.netty.recycler.maxCapacityPerThread=0",
                "--add-opens=org.apache.lucene.core/org.apache.lucene.codecs.lucene99=org.elasticsearch.server",
                "--add-opens=org.apache.lucene.core/org.apache.lucene.internal.vectorization=org.elasticsearch.server",
                "-Dlog4j.shutdownHookEnabled=false", "-Dlog4j2.disable.jmx=true", "-Dlog4j2.formatMsgNoLookups=true",
                "-Djava.locale.providers=CLDR",
                "-Dorg.apache.lucene.vectorization.upperJavaFeatureVersion=" + Runtime.version().feature(),
                "-Des.path.home=" + home, "-Des.distribution.type=tar", "-Des.java.type=other JDK",
                "--enable-native-access=org.elasticsearch.nativeaccess,org.apache.lucene.core,"
                        + "org.elasticsearch.foreign,org.elasticsearch.foreign.adapter",
                "--enable-native-access=ALL-UNNAMED", "--illegal-native-access=deny",
                "-Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false",
                "-XX:+EnableDynamicAgentLoading", "-Djdk.attach.allowAttachSelf=true",
                "--patch-module=java.base=" + home.resolve("lib/entitlement-bridge/elasticsearch-entitlement-bridge-"
                        + version + ".jar"),
                "--add-exports=java.base/org.elasticsearch.entitlement.bridge=org.elasticsearch.entitlement,"
                        + "java.logging,java.net.http,java.naming,jdk.net",
                "-Djava.io.tmpdir=" + layout.tmpDirectory(), "--add-modules=jdk.incubator.vector",
                "-Dorg.apache.lucene.store.defaultReadAdvice=normal",
                "-Dorg.apache.lucene.store.MMapDirectory.sharedArenaMaxPermits=1",
                "-XX:+ExitOnOutOfMemoryError",
                "--module-path=" + home.resolve("lib"), "--add-modules=jdk.net", "--add-modules=jdk.management.agent",
                "--add-modules=ALL-MODULE-PATH",
                "-m", "org.elasticsearch.server/org.elasticsearch.bootstrap.Elasticsearch");
    }
}
