package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Upstream timeouts: connect and read (time between bytes). Defaults 10 s and 300 s. Immutable and threadsafe.
 */
public record Timeouts(Duration connect, Duration read) {

    /** Connect 10 s, read 300 s. */
    public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(300));

    public Timeouts {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(read, "read");
        if (connect.isNegative() || connect.isZero() || read.isNegative() || read.isZero()) {
            throw new IllegalArgumentException("timeouts must be > 0, were connect=" + connect + ", read=" + read);
        }
    }
}
