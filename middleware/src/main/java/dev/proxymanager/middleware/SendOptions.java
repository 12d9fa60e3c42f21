package dev.proxymanager.middleware;

import dev.proxymanager.middleware.config.ConfigException;
import dev.proxymanager.middleware.config.SettingDefinitions;
import dev.proxymanager.middleware.rotation.CallRoute;

import java.time.Duration;

/**
 * Per-call options of {@link Request#send}: a response timeout replacing the endpoint's read timeout, how the
 * call uses the cache, and what it costs. Immutable; start from {@link #defaults()} and derive with the
 * {@code with*} methods.
 *
 * @param timeout the response timeout, or null for the endpoint's {@code timeouts.read} (default 300 s)
 * @param noCache neither read nor write the cache for this call
 * @param refresh skip the cache read, call the upstream, store the new response
 * @param cost the uses this call counts in every limit that counts it, overriding the endpoint's {@code costs};
 *             {@link CallRoute#CONFIGURED_COST} (0, the default) for the configured cost
 */
public record SendOptions(Duration timeout, boolean noCache, boolean refresh, int cost) {

    private static final SendOptions DEFAULTS = new SendOptions(null, false, false, CallRoute.CONFIGURED_COST);

    /** At the configured cost. */
    public SendOptions(Duration timeout, boolean noCache, boolean refresh) {
        this(timeout, noCache, refresh, CallRoute.CONFIGURED_COST);
    }

    /**
     * @throws IllegalArgumentException if {@code timeout} is zero or negative, both noCache and refresh are set, or
     *                                  the cost is out of bounds
     */
    public SendOptions {
        if (cost != CallRoute.CONFIGURED_COST) {
            try {
                SettingDefinitions.COST.check(cost);
            } catch (ConfigException e) {
                throw new IllegalArgumentException("cost " + e.reason(), e);
            }
        }
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
        return new SendOptions(timeout, noCache, refresh, cost);
    }

    public SendOptions withNoCache(boolean noCache) {
        return new SendOptions(timeout, noCache, refresh, cost);
    }

    public SendOptions withRefresh(boolean refresh) {
        return new SendOptions(timeout, noCache, refresh, cost);
    }

    /**
     * This call costs {@code cost} uses of every limit that counts it (its endpoint's, its route buckets', its
     * group's), counted atomically with the grant; overrides the endpoint's {@code costs}. A cost known only after
     * the call is what {@code cost_header} is for.
     *
     * @throws IllegalArgumentException unless {@code 1 <= cost <= 100 000}
     */
    public SendOptions withCost(int cost) {
        if (cost == CallRoute.CONFIGURED_COST) {
            throw new IllegalArgumentException("cost must be between 1 and " + SettingDefinitions.MAX_COST
                    + ", was 0");
        }
        return new SendOptions(timeout, noCache, refresh, cost);
    }
}
