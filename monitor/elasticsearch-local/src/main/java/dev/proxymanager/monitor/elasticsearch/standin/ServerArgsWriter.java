package dev.proxymanager.monitor.elasticsearch.standin;

import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Does what the unpublished {@code server-cli} does before it forks the server JVM: resolves
 * {@code elasticsearch.yml} from the node's config folder and serialises the {@link ServerArgs} that
 * {@code org.elasticsearch.bootstrap.Elasticsearch} reads from its standard input.
 *
 * <p>Runs in its own short-lived JVM with the node's jars on the class path, so that none of them ever
 * reaches the class path of the process that launches the node.
 *
 * <p>Usage: {@code ServerArgsWriter ES_HOME CONFIG_DIR OUT_FILE}
 */
public final class ServerArgsWriter {
    private ServerArgsWriter() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: ServerArgsWriter ES_HOME CONFIG_DIR OUT_FILE, was "
                    + args.length + " arguments");
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Path configDir = Path.of(args[1]).toAbsolutePath();
        Environment env = InternalSettingsPreparer.prepareEnvironment(
                Settings.builder().put("path.home", home.toString()).build(), Map.of(), configDir, () -> "local-node");
        KeyStoreWrapper keystore = KeyStoreWrapper.create(); // empty and loaded: the local node has no secure settings
        ServerArgs serverArgs = new ServerArgs(false, false, null, keystore, env.settings(), env.configDir(),
                env.logsDir());
        try (var out = new OutputStreamStreamOutput(new BufferedOutputStream(new FileOutputStream(args[2])))) {
            serverArgs.writeTo(out);
        }
    }
}
