package dev.proxymanager.server.config;

import dev.proxymanager.middleware.config.SecretsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Keeps the running secrets in step with secrets.json: added secrets join the rotation and removed ones leave it at
 * once (seed C), while those that remain keep their usage, leases and health. The file is polled by content, not
 * by modification time or file events, because Kubernetes updates a mounted Secret by swapping a symlink. A file
 * that does not validate is refused with the error naming the problem, and the running secrets stay as they were.
 * This class is threadsafe.
 */
public final class SecretsReloader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SecretsReloader.class);

    /**
     * What a reload did.
     *
     * @param changed whether the file differed from what runs (false: nothing was applied)
     * @param endpoints endpoints configured now
     * @param secrets secrets configured now, over all endpoints
     */
    public record Outcome(boolean changed, int endpoints, int secrets) {
    }

    private final Path file;
    private final Map<String, String> env;
    private final UnaryOperator<SecretsConfig> adjust;
    private final Consumer<SecretsConfig> apply;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private byte[] appliedDigest; // guarded by this
    private Outcome applied = new Outcome(false, 0, 0); // guarded by this
    private String lastFailure; // guarded by this
    private ScheduledExecutorService poller;

    /**
     * @param file the secrets file
     * @param env where {@code ${NAME}} references are resolved
     * @param adjust applied to every loaded configuration before use (e.g. the server's retry override)
     * @param apply takes a new, valid configuration live
     */
    public SecretsReloader(Path file, Map<String, String> env, UnaryOperator<SecretsConfig> adjust,
                           Consumer<SecretsConfig> apply) {
        this.file = Objects.requireNonNull(file, "file");
        this.env = Map.copyOf(env);
        this.adjust = Objects.requireNonNull(adjust, "adjust");
        this.apply = Objects.requireNonNull(apply, "apply");
    }

    /**
     * Reads and validates the file for start-up, remembering its content as the one running; nothing is applied.
     *
     * @throws IllegalArgumentException naming the file and the problem when it is unreadable or invalid
     */
    public synchronized SecretsConfig loadInitial() {
        byte[] content = read();
        SecretsConfig config = parse(content);
        appliedDigest = digest(content);
        applied = counts(false, config);
        return config;
    }

    /**
     * Applies the file if its content changed since it was last applied.
     *
     * @throws IllegalArgumentException naming the problem when the file is unreadable or invalid; the running
     *                                  secrets are unchanged
     */
    public synchronized Outcome reload() {
        try {
            byte[] content = read();
            byte[] digest = digest(content);
            if (Arrays.equals(digest, appliedDigest)) {
                return counts(false, applied);
            }
            SecretsConfig config = parse(content);
            apply.accept(config);
            appliedDigest = digest;
            lastFailure = null;
            reloads.incrementAndGet();
            Outcome outcome = counts(true, config);
            applied = outcome;
            LOG.atInfo().setMessage("secrets reloaded").addKeyValue("file", file.toString())
                    .addKeyValue("endpoint_count", outcome.endpoints()).addKeyValue("secrets", outcome.secrets()).log();
            return outcome;
        } catch (IllegalArgumentException e) {
            failures.incrementAndGet();
            String message = e.getMessage();
            if (!message.equals(lastFailure)) { // once per distinct problem, not on every poll
                LOG.atError().setMessage("secrets file not applied; the running secrets stay as they were")
                        .addKeyValue("file", file.toString()).addKeyValue("reason", message).log();
                lastFailure = message;
            }
            throw e;
        }
    }

    /** Polls the file every {@code interval} on a daemon thread until {@link #close()}. */
    public synchronized SecretsReloader start(Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be > 0, was " + interval);
        }
        if (poller == null) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "secrets-reloader");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::pollOnce, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private void pollOnce() {
        try {
            reload();
        } catch (IllegalArgumentException e) {
            // logged by reload(); keep polling so a fixed file is picked up
        } catch (RuntimeException e) {
            LOG.atError().setMessage("secrets reload failed").setCause(e).log();
        }
    }

    /** Configurations applied after start-up. */
    public long reloads() {
        return reloads.get();
    }

    /** Reload attempts refused because the file was unreadable or invalid. */
    public long failures() {
        return failures.get();
    }

    /** The secrets file. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
            poller = null;
        }
    }

    private static Outcome counts(boolean changed, SecretsConfig config) {
        return new Outcome(changed, config.endpoints().size(),
                config.endpoints().values().stream().mapToInt(e -> e.secrets().size()).sum());
    }

    private static Outcome counts(boolean changed, Outcome o) {
        return new Outcome(changed, o.endpoints(), o.secrets());
    }

    /** Validates the file's content and applies the server's overrides. */
    private SecretsConfig parse(byte[] content) {
        return adjust.apply(SecretsConfig.parse(new String(content, StandardCharsets.UTF_8), env, file));
    }

    private byte[] read() {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read secrets file " + file + ": " + e.getMessage(), e);
        }
    }

    private static byte[] digest(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
