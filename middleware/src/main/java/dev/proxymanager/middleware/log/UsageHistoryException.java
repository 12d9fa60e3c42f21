package dev.proxymanager.middleware.log;

/** The request log could not be read back (Elasticsearch unreachable or rejecting the query). */
public class UsageHistoryException extends RuntimeException {
    public UsageHistoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
