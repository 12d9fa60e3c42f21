package dev.proxymanager.middleware.cache;

import java.util.Locale;

/** How one call uses the cache. */
public enum CacheMode {
    /** Serve a fresh entry if there is one; otherwise call the upstream and store the response. */
    NORMAL,
    /** Neither read nor write the cache (per-call bypass, request {@code Cache-Control: no-store}). */
    BYPASS,
    /** Skip the read, call the upstream, store the new response (per-call refresh, {@code no-cache}). */
    REFRESH;

    /**
     * The mode a request's own {@code Cache-Control} header asks for: {@code no-store} → {@link #BYPASS},
     * {@code no-cache} → {@link #REFRESH}, anything else (or null) → {@link #NORMAL}.
     */
    public static CacheMode fromRequestCacheControl(String cacheControl) {
        if (cacheControl == null) {
            return NORMAL;
        }
        String cc = cacheControl.toLowerCase(Locale.ROOT);
        if (cc.contains("no-store")) {
            return BYPASS;
        }
        return cc.contains("no-cache") ? REFRESH : NORMAL;
    }
}
