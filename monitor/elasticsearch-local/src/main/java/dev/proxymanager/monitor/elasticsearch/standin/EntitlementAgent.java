package dev.proxymanager.monitor.elasticsearch.standin;

import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;

/**
 * Stand-in for the distribution's entitlement agent jar ({@code lib/entitlement-agent}), which is not published
 * to Maven Central. The node attaches it to itself at start-up; all it has to do is hand the
 * {@link Instrumentation} to the entitlement library, which is on Maven Central.
 */
public final class EntitlementAgent {
    private static final String DEFAULT_INITIALIZER =
            "org.elasticsearch.entitlement.initialization.EntitlementInitialization";

    private EntitlementAgent() {
    }

    public static void agentmain(String agentArgs, Instrumentation inst) throws Exception {
        String initializer = agentArgs == null || agentArgs.isEmpty() ? DEFAULT_INITIALIZER : agentArgs;
        Class<?> c = Class.forName(initializer);
        Method initialize = c.getMethod("initialize", Instrumentation.class);
        initialize.invoke(null, inst);
    }
}
