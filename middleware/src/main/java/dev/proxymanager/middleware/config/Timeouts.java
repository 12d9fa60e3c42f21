package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Upstream timeouts: connect and read (time between bytes). Defaults 10 s and 300 s; read at most 300 s. Immutable and threadsafe.
 */
public record Timeouts(Duration connect, Duration read) {

    /** Connect 10 s, read 300 s. */
    public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(300));

    public Timeouts {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(read, "read");
        SettingDefinitions.CONNECT_TIMEOUT.check(connect);
        SettingDefinitions.READ_TIMEOUT.check(read);
    }
}
