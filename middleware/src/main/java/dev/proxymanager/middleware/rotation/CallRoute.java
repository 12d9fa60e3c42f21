package dev.proxymanager.middleware.rotation;

/**
 * What the engine needs to know of a call to count it: its method and path, which decide the route buckets (limits
 * with a {@code match}) it counts against and its configured cost, and a cost given by the caller. Immutable and
 * threadsafe.
 *
 * @param method the HTTP method, or {@code null} when unknown (a {@code match} naming methods does not match)
 * @param path the request path without the query, or {@code null} when unknown (a {@code match} naming a path does
 *             not match)
 * @param cost the uses the call costs, overriding the endpoint's {@code costs}; {@link #CONFIGURED_COST} for the
 *             configured one
 */
public record CallRoute(String method, String path, int cost) {

    /** {@link #cost()} saying: what the endpoint's {@code costs} say (1 when none matches). */
    public static final int CONFIGURED_COST = 0;

    /** A call not known yet (a secret handed out before its request is made): no route bucket, the default cost. */
    public static final CallRoute UNKNOWN = new CallRoute(null, null, CONFIGURED_COST);

    /** @throws IllegalArgumentException for a negative cost */
    public CallRoute {
        if (cost < 0) {
            throw new IllegalArgumentException("cost must be >= 1 (or 0 for the configured cost), was " + cost);
        }
    }

    /** A call of {@code method} to {@code path} at its configured cost. */
    public static CallRoute of(String method, String path) {
        return new CallRoute(method, path, CONFIGURED_COST);
    }
}
