package dev.proxymanager.middleware.store;

/**
 * A networked {@link UsageStore} could not be reached or did not answer in time. {@link FailoverUsageStore} turns it
 * into the configured failure mode; callers of a bare networked store see it. The message names the store by its
 * masked address, never its credentials.
 */
public class UsageStoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, e.g. {@code usage store redis://…@10.0.0.5:6379 unavailable during acquire: ...}
     * @param cause the client's exception
     */
    public UsageStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
