package dev.proxymanager.monitor.elasticsearch;

/** A local Elasticsearch node could not be provisioned, started or reached; the message says why. */
public class LocalElasticsearchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LocalElasticsearchException(String message) {
        super(message);
    }

    public LocalElasticsearchException(String message, Throwable cause) {
        super(message, cause);
    }
}
