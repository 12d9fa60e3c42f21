package dev.proxymanager.server.dashboard;

/**
 * Where the dashboard's history panels come from: aggregations over the request log. The server uses
 * {@link ElasticsearchRequestHistory}; anything that can count request-log documents can stand in.
 *
 * <p>Implementations must be threadsafe: the dashboard calls them from request threads.
 */
@FunctionalInterface
public interface RequestHistory {

    /**
     * Summarises the request log over {@code range}.
     *
     * @throws HistoryUnavailableException when the log cannot be read now; the dashboard then shows the live
     *                                     engine state alone and says the history is unavailable
     */
    HistoryReport report(HistoryRange range) throws HistoryUnavailableException;
}
