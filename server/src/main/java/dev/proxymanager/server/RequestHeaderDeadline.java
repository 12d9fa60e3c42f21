package dev.proxymanager.server;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose request headers trickle in (slowloris): the idle timeout restarts at every byte, so a
 * client sending one byte a second could hold a connection for hours. Every {@code deadline} each connection is
 * looked at; one that was in the middle of a request's headers at the last look and has completed no request since
 * is closed. Headers therefore must arrive within one to two deadlines. This class is threadsafe.
 */
final class RequestHeaderDeadline implements Connection.Listener {

    private final Scheduler scheduler;
    private final long deadlineMillis;

    RequestHeaderDeadline(Scheduler scheduler, Duration deadline) {
        this.scheduler = scheduler;
        this.deadlineMillis = deadline.toMillis();
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof HttpConnection http) {
            scheduler.schedule(() -> look(http, -1), deadlineMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** @param partialAt the request count when the connection was last seen mid-headers, or -1 */
    private void look(HttpConnection http, long partialAt) {
        if (!http.getEndPoint().isOpen()) {
            return;
        }
        long requests = http.getMessagesIn();
        boolean midHeaders = http.getParser().inHeaderState() && !http.getParser().isStart();
        if (midHeaders && partialAt == requests) {
            http.getEndPoint().close();
            return;
        }
        long next = midHeaders ? requests : -1;
        scheduler.schedule(() -> look(http, next), deadlineMillis, TimeUnit.MILLISECONDS);
    }
}
