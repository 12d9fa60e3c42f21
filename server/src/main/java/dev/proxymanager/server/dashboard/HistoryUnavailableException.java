package dev.proxymanager.server.dashboard;

/** The request-log history cannot be read now (the store is down, the index is missing, the query failed). */
public class HistoryUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public HistoryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
