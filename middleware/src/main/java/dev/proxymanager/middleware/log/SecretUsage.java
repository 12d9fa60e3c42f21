package dev.proxymanager.middleware.log;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The recorded uses of one secret on one endpoint, as read back from the request log.
 *
 * @param endpoint the endpoint name
 * @param secretId the secret's id or masked form, as it was logged
 * @param timestamps when each upstream attempt with this secret was sent, oldest first
 */
public record SecretUsage(String endpoint, String secretId, List<Instant> timestamps) {
    public SecretUsage {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(secretId, "secretId");
        timestamps = List.copyOf(timestamps);
    }
}
