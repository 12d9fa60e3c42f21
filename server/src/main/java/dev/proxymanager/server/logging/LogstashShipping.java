package dev.proxymanager.server.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import net.logstash.logback.appender.LogstashTcpSocketAppender;
import net.logstash.logback.appender.listener.TcpAppenderListener;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the Logstash appender did with the log events: sent, dropped (its ring buffer was full because Logstash is
 * missing or slow; logging never blocks a request, so these are lost) and failed sends, and whether it is connected
 * now. Attach it with {@link #attach(String)} to the appender {@code logback.xml} configures. This class is
 * threadsafe.
 */
public final class LogstashShipping implements TcpAppenderListener<ILoggingEvent> {

    /** The appender's name in logstash-appender.xml. */
    public static final String APPENDER_NAME = "LOGSTASH";

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong connectionFailures = new AtomicLong();
    private final AtomicBoolean connected = new AtomicBoolean();

    /**
     * Listens to the root logger's Logstash TCP appender named {@code appenderName}, if logging is configured with
     * one (only when {@code LOGSTASH_HOST} is set).
     *
     * @return the listener, or empty when there is no such appender
     */
    public static Optional<LogstashShipping> attach(String appenderName) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return Optional.empty();
        }
        Appender<ILoggingEvent> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(appenderName);
        if (!(appender instanceof LogstashTcpSocketAppender tcp)) {
            return Optional.empty();
        }
        return Optional.of(attachTo(tcp));
    }

    /** Listens to {@code appender}. */
    public static LogstashShipping attachTo(LogstashTcpSocketAppender appender) {
        LogstashShipping shipping = new LogstashShipping();
        appender.addListener(shipping);
        return shipping;
    }

    public long sent() {
        return sent.get();
    }

    /** Events refused because the appender's buffer was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Events whose write to Logstash failed (the appender reconnects and goes on). */
    public long sendFailures() {
        return sendFailures.get();
    }

    /** Attempts to connect to Logstash that failed. */
    public long connectionFailures() {
        return connectionFailures.get();
    }

    /** Whether a connection to Logstash is open now. */
    public boolean connected() {
        return connected.get();
    }

    @Override
    public void eventAppendFailed(Appender<ILoggingEvent> appender, ILoggingEvent event, Throwable reason) {
        dropped.incrementAndGet();
    }

    @Override
    public void eventSent(Appender<ILoggingEvent> appender, Socket socket, ILoggingEvent event, long durationInNanos) {
        sent.incrementAndGet();
        // attached after start, the listener may have missed connectionOpened: a sent event proves the connection
        connected.set(true);
    }

    @Override
    public void eventSendFailure(Appender<ILoggingEvent> appender, ILoggingEvent event, Throwable reason) {
        sendFailures.incrementAndGet();
        connected.set(false);
    }

    @Override
    public void connectionOpened(Appender<ILoggingEvent> appender, Socket socket) {
        connected.set(true);
    }

    @Override
    public void connectionFailed(Appender<ILoggingEvent> appender, InetSocketAddress address, Throwable reason) {
        connectionFailures.incrementAndGet();
        connected.set(false);
    }

    @Override
    public void connectionClosed(Appender<ILoggingEvent> appender, Socket socket) {
        connected.set(false);
    }
}
