package dev.proxymanager.server.dashboard;

import dev.proxymanager.middleware.rotation.SecretStats;
import dev.proxymanager.middleware.store.Availability;
import dev.proxymanager.middleware.store.UnavailableCause;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The rotation engine's stats as the dashboard's live panel shows them: one row per secret, with its cause and the
 * window closest to binding as the engine names it ({@link SecretStats#closestToBinding}: a secret at 26/30 per
 * minute and 26/500 per 15 minutes shows the per-minute one, since that is what keeps it out of rotation first).
 * This class is threadsafe.
 */
public final class EngineSecretStatuses implements Supplier<List<SecretStatus>> {

    private final Supplier<? extends Collection<String>> endpoints;
    private final Function<String, List<SecretStats>> stats;

    /**
     * @param endpoints the endpoint names, read on every refresh (the settings API may add or remove some)
     * @param stats the engine's stats of one endpoint
     */
    public EngineSecretStatuses(Supplier<? extends Collection<String>> endpoints,
                                Function<String, List<SecretStats>> stats) {
        this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
        this.stats = Objects.requireNonNull(stats, "stats");
    }

    @Override
    public List<SecretStatus> get() {
        List<SecretStatus> out = new ArrayList<>();
        for (String endpoint : endpoints.get()) {
            for (SecretStats s : stats.apply(endpoint)) {
                out.add(toStatus(s));
            }
        }
        return out;
    }

    static SecretStatus toStatus(SecretStats s) {
        List<SecretStatus.RouteWindow> routes = new ArrayList<>();
        for (SecretStats.RouteUsage r : s.routes()) {
            // each bucket's window that binds first, chosen as for the secret's own windows
            SecretStats.WindowUsage w = SecretStats.closestToBinding(r.windows(),
                    new Availability(0, UnavailableCause.READY));
            if (w != null) {
                routes.add(new SecretStatus.RouteWindow(r.match(), w.uses(), w.limit().requests(), w.limit().per(),
                        r.upstream()));
            }
        }
        SecretStats.WindowUsage binding = s.binding();
        if (binding == null) {
            return new SecretStatus(s.endpoint(), s.secretId(), s.cause(), s.totalUses(), 0, null, s.upstream(),
                    routes);
        }
        return new SecretStatus(s.endpoint(), s.secretId(), s.cause(), binding.uses(), binding.limit().requests(),
                binding.limit().per(), s.upstream(), routes);
    }
}
