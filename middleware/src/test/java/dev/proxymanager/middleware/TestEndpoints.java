package dev.proxymanager.middleware;

import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.SecretsConfig;
import dev.proxymanager.middleware.config.UsageStoreSettings;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds configurations for the Request tests. */
final class TestEndpoints {

    private TestEndpoints() {
    }

    static SecretsConfig config(EndpointConfig... endpoints) {
        Map<String, EndpointConfig> m = new LinkedHashMap<>();
        for (EndpointConfig e : endpoints) {
            m.put(e.name(), e);
        }
        return new SecretsConfig(UsageStoreSettings.DEFAULT, m);
    }
}
