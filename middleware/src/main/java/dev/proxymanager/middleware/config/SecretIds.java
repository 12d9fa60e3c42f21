package dev.proxymanager.middleware.config;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Ids of secrets that secrets.json gives no {@code id}: the value's masked form, {@code #} and a tag of 12 hex digits
 * from HMAC-SHA256 of the value keyed by a salt, e.g. {@code http://…@gw.example.net:22225#3f9a0c5e12b7}.
 *
 * <p>Why this shape: the masked form alone collides (every session of one proxy gateway masks to the same URL, every
 * key under 8 characters to {@code …}); a plain hash of the value would let anyone holding an id test guesses of a
 * short key offline; a key derived from the endpoint's set of secrets would change the ids whenever a secret is added
 * and so lose the counts a reload keeps by id. The salt is secret and fixed per installation, so an id is stable
 * across restarts and reloads, distinct for distinct values (48-bit tags), and says nothing about the value to
 * whoever lacks the salt. An explicit {@code id} always wins; changing the salt renames every derived id (usage counts
 * kept by id start over).
 *
 * <p>The salt comes from, in order: {@code id_salt} in secrets.json, the environment variable
 * {@value #SALT_ENVIRONMENT_VARIABLE}, the file {@code <secrets file>.id-salt} beside secrets.json (generated with
 * 32 random bytes and permission 0600 the first time it is needed). This class is threadsafe.
 */
public final class SecretIds {

    /** The environment variable holding the salt when secrets.json has no {@code id_salt}. */
    public static final String SALT_ENVIRONMENT_VARIABLE = "PROXY_MANAGER_ID_SALT";
    /** The shortest salt accepted: 16 characters. */
    public static final int MIN_SALT_LENGTH = 16;
    /** The suffix of the salt file's name, after the secrets file's name. */
    public static final String SALT_FILE_SUFFIX = ".id-salt";

    private static final SecretIds PROCESS_LOCAL = new SecretIds(randomSalt());

    private final SecretKeySpec key;

    private SecretIds(String salt) {
        this.key = new SecretKeySpec(salt.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    /**
     * Ids under {@code salt}.
     *
     * @throws IllegalArgumentException when the salt is shorter than {@value #MIN_SALT_LENGTH} characters
     */
    public static SecretIds withSalt(String salt) {
        Objects.requireNonNull(salt, "salt");
        if (salt.strip().length() < MIN_SALT_LENGTH) {
            throw new IllegalArgumentException("must be at least " + MIN_SALT_LENGTH + " characters long, was "
                    + salt.strip().length() + " characters");
        }
        return new SecretIds(salt.strip());
    }

    /**
     * Ids under the salt stored beside {@code secretsFile} ({@code <name>.id-salt}), created with a random salt and
     * permission 0600 when there is none yet.
     *
     * @throws ConfigException when the salt file can be neither read nor created (a read-only mount, say)
     */
    public static SecretIds besideFile(Path secretsFile) {
        Path saltFile = saltFile(secretsFile);
        try {
            if (!Files.exists(saltFile)) {
                create(saltFile);
            }
            return withSalt(Files.readString(saltFile, StandardCharsets.UTF_8));
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("", "secrets without an \"id\" need an id salt, and " + saltFile
                    + " could not be " + (Files.exists(saltFile) ? "used" : "created") + " (" + e.getMessage() + "); set"
                    + " \"id_salt\" in secrets.json or " + SALT_ENVIRONMENT_VARIABLE + " (at least " + MIN_SALT_LENGTH
                    + " characters), or give each secret an \"id\"", e);
        }
    }

    /**
     * Ids under a salt made for this process: stable while it runs (across reloads), not across restarts. For
     * configurations parsed from text that came from no file.
     */
    public static SecretIds processLocal() {
        return PROCESS_LOCAL;
    }

    /** The salt file of {@code secretsFile}. */
    public static Path saltFile(Path secretsFile) {
        return secretsFile.resolveSibling(secretsFile.getFileName() + SALT_FILE_SUFFIX);
    }

    /** The id of a secret whose value is {@code value} and which was given no id. */
    public String idFor(String value) {
        return SecretMasking.mask(value) + "#" + tag(value);
    }

    private String tag(String value) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] h = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 6);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static void create(Path saltFile) throws IOException {
        // written aside, then linked into place: a concurrent starter reads either no file or a whole one
        Path dir = saltFile.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, ".id-salt", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(dir, ".id-salt", ".tmp");
        }
        try {
            Files.writeString(tmp, randomSalt() + "\n", StandardCharsets.UTF_8);
            try {
                Files.createLink(saltFile, tmp);
            } catch (FileAlreadyExistsException e) {
                // another process made it first: use theirs
            } catch (UnsupportedOperationException e) {
                Files.move(tmp, saltFile);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String randomSalt() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
