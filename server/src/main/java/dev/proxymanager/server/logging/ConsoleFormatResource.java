package dev.proxymanager.server.logging;

import ch.qos.logback.core.PropertyDefinerBase;

import java.util.Locale;

/**
 * Tells {@code logback.xml} which console appender to include: JSON lines ({@code LogstashEncoder}) when
 * {@code LOG_FORMAT} is {@code json} (system property first, then environment variable), otherwise human-readable
 * text lines. A newcomer starting the server reads text; a container that ships its console output sets
 * {@code LOG_FORMAT=json}. Shipping to Logstash ({@code LOGSTASH_HOST}) is JSON either way.
 *
 * <p>This class is threadsafe.
 */
public final class ConsoleFormatResource extends PropertyDefinerBase {
    /** The console appender writing one JSON object per line. */
    public static final String JSON_RESOURCE = "dev/proxymanager/server/logging/console-json.xml";
    /** The console appender writing text lines: time, level, thread, logger, message and the key-values. */
    public static final String TEXT_RESOURCE = "dev/proxymanager/server/logging/console-text.xml";

    @Override
    public String getPropertyValue() {
        String format = System.getProperty("LOG_FORMAT");
        if (format == null || format.isBlank()) {
            format = System.getenv("LOG_FORMAT");
        }
        return format != null && format.trim().toLowerCase(Locale.ROOT).equals("json") ? JSON_RESOURCE : TEXT_RESOURCE;
    }
}
