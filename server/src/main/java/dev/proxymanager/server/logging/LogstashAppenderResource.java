package dev.proxymanager.server.logging;

import ch.qos.logback.core.PropertyDefinerBase;

/**
 * Tells {@code logback.xml} which file to include for Logstash: the appender's resource when {@code LOGSTASH_HOST}
 * is set (system property first, then environment variable), otherwise a name that does not exist, so the optional
 * include adds nothing. This replaces Logback's {@code <if>}, which needs janino.
 *
 * <p>This class is threadsafe.
 */
public final class LogstashAppenderResource extends PropertyDefinerBase {
    /** The included configuration with the Logstash TCP appender. */
    public static final String APPENDER_RESOURCE = "dev/proxymanager/server/logging/logstash-appender.xml";
    /** What is "included" when Logstash is not configured: no such resource. */
    public static final String NO_APPENDER = "dev/proxymanager/server/logging/logstash-disabled.xml";

    @Override
    public String getPropertyValue() {
        String host = System.getProperty("LOGSTASH_HOST");
        if (host == null || host.isBlank()) {
            host = System.getenv("LOGSTASH_HOST");
        }
        return host == null || host.isBlank() ? NO_APPENDER : APPENDER_RESOURCE;
    }
}
