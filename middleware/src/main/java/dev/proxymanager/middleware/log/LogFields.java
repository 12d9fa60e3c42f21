package dev.proxymanager.middleware.log;

/**
 * Field names shared by the request-log documents, the library's structured log lines (SLF4J key-values), the
 * index templates, the Logstash pipeline and the Kibana dashboards. Change one here and in those files together.
 */
public final class LogFields {
    /** Event time, ISO-8601 (date). */
    public static final String TIMESTAMP = "@timestamp";
    /** Which process wrote the document (keyword): one per server replica or library instance. */
    public static final String INSTANCE_ID = "instance_id";
    /** The endpoint name from secrets.json (keyword). */
    public static final String ENDPOINT = "endpoint";
    /** Upper-case HTTP method (keyword). */
    public static final String METHOD = "method";
    /** The request URL with secrets redacted (keyword, plus a text sub-field {@code url.text}). */
    public static final String URL = "url";
    /** The URL's host (keyword). */
    public static final String HOST = "host";
    /** The secret's id or masked form — never its value (keyword). */
    public static final String SECRET_ID = "secret_id";
    /** {@code key} or {@code proxy} (keyword). */
    public static final String SECRET_TYPE = "secret_type";
    /** The proxy's masked id when the request went through a proxy (keyword). */
    public static final String PROXY_ID = "proxy_id";
    /** Upstream HTTP status; absent when no response came (integer). */
    public static final String STATUS = "status";
    /** Time from send to the full response, in milliseconds (long). */
    public static final String LATENCY_MS = "latency_ms";
    /** Response body size in bytes (long). */
    public static final String BYTES = "bytes";
    /**
     * {@code hit}, {@code miss}, {@code bypass} or {@code stale} (keyword), once per call: on its attempt 0 or 1
     * document, never on retries.
     */
    public static final String CACHE = "cache";
    /**
     * 0 when the call was answered from the cache (no upstream attempt, no latency), 1 for the first upstream attempt,
     * 2 for the first retry, … (integer).
     */
    public static final String ATTEMPT = "attempt";
    /**
     * What the attempt came to: an {@link dev.proxymanager.middleware.health.OutcomeKind#wireName()} —
     * {@code success}, {@code client_error}, {@code banned}, {@code rate_limited}, {@code failure}, {@code timeout},
     * {@code error} (keyword).
     */
    public static final String OUTCOME = "outcome";
    /** The error's type when the attempt failed without a response, e.g. {@code connect_timeout} (keyword). */
    public static final String ERROR_TYPE = "error_type";
    /**
     * Units of the secret's quota the upstream reported left in this attempt's response: the quota that binds first
     * when it reported several (long); absent when it reported none.
     */
    public static final String UPSTREAM_REMAINING = "upstream_remaining";
    /** The size of that quota, as the upstream reported it (long); absent when not reported. */
    public static final String UPSTREAM_LIMIT = "upstream_limit";
    /** When that quota resets, as the upstream reported it (date). */
    public static final String UPSTREAM_RESET = "upstream_reset";
    /** Secret state change events: {@code cooldown}, {@code ban}, {@code removed}, {@code restored} (keyword). */
    public static final String EVENT = "event";
    /** Why a secret's state changed, e.g. {@code ban signal (status 403), backoff 1} (keyword). */
    public static final String EVENT_REASON = "event_reason";
    /** Until when a secret cools down (date). */
    public static final String COOLDOWN_UNTIL = "cooldown_until";
    /** Format version of stored documents (integer). */
    public static final String SCHEMA_VERSION = "schema_version";

    /** Log-line key: request-log documents dropped so far (buffer full, rejected, undelivered at close) (long). */
    public static final String LOG_DOCUMENTS_DROPPED = "log_documents_dropped";
    /** Log-line key: request-log documents buffered, not yet delivered (integer). */
    public static final String LOG_BUFFER_SIZE = "log_buffer_size";

    private LogFields() {
    }
}
