package dev.proxymanager.middleware.cache;

import dev.proxymanager.middleware.log.LogFields;

import java.util.Locale;

/** Where a response came from, as recorded in the request log's {@link LogFields#CACHE} field. */
public enum CacheStatus {
    /** From the cache (a stored fresh entry, or an identical concurrent call's response): no upstream call. */
    HIT,
    /** From the upstream; stored if cacheable. */
    MISS,
    /** From the upstream, cache not consulted (bypass, method not cacheable, caching disabled, store down). */
    BYPASS,
    /** An expired entry served because the upstream failed, within the policy's stale-if-error window. */
    STALE;

    /** The request-log value: {@code hit}, {@code miss}, {@code bypass} or {@code stale}. */
    public String logValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
