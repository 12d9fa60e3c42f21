package dev.proxymanager.middleware;

import java.time.Duration;

/**
 * Per-call options of {@link Request#send}: a response timeout replacing the endpoint's read timeout, and how the
 * call uses the cache. Immutable; start from {@link #defaults()} and derive with the {@code with*} methods.
 *
 * @param timeout the response timeout, or null for the endpoint's {@code timeouts.read} (default 300 s)
 * @param noCache neither read nor write the cache for this call
 * @param refresh skip the cache read, call the upstream, store the new response
 */
public record SendOptions(Duration timeout, boolean noCache, boolean refresh) {

    private static final SendOptions DEFAULTS = new SendOptions(null, false, false);

    /** @throws IllegalArgumentException if {@code timeout} is zero or negative, or both noCache and refresh are set */
    public SendOptions {
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be > 0, was " + timeout);
        }
        if (noCache && refresh) {
            throw new IllegalArgumentException("noCache and refresh conflict: choose one");
        }
    }

    /** The endpoint's timeout, the cache used normally. */
    public static SendOptions defaults() {
        return DEFAULTS;
    }

    public SendOptions withTimeout(Duration timeout) {
        return new SendOptions(timeout, noCache, refresh);
    }

    public SendOptions withNoCache(boolean noCache) {
        return new SendOptions(timeout, noCache, refresh);
    }

    public SendOptions withRefresh(boolean refresh) {
        return new SendOptions(timeout, noCache, refresh);
    }
}
