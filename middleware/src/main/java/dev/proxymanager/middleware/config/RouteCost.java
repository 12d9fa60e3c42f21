package dev.proxymanager.middleware.config;

import java.util.Objects;

/**
 * What a call matched by {@code match} costs, in uses of every limit that counts it (an endpoint's {@code "costs"}
 * entry). Immutable and threadsafe.
 *
 * @param match the calls it applies to
 * @param cost uses per call, 1 to {@link SettingDefinitions#MAX_COST}
 */
public record RouteCost(RouteMatch match, int cost) {

    public RouteCost {
        Objects.requireNonNull(match, "match");
        SettingDefinitions.COST.check(cost);
    }
}
