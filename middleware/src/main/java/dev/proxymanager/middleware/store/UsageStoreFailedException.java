package dev.proxymanager.middleware.store;

/**
 * A usage store answered, but with an error that is not unreachability: a script error, an unreadable reply, a bug.
 * Unlike {@link UsageStoreUnavailableException} it is never a reason to fall back to local counting or to skip limits:
 * the call fails, and {@link FailoverUsageStore} logs and counts it and reports it in its {@link
 * FailoverUsageStore.Status status}. The message names the store by its masked address, never its credentials.
 */
public class UsageStoreFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, e.g. {@code usage store redis://…@10.0.0.5:6379 failed during acquire: ERR ...}
     * @param cause the underlying error
     */
    public UsageStoreFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
