package dev.proxymanager.middleware.quota;

import dev.proxymanager.middleware.http.HttpHeaders;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the quota an upstream reports in a response's headers (an endpoint's {@code quota_headers}). The one place
 * these headers are parsed; the engine and the server take its {@link QuotaReading}.
 *
 * <p>{@link #AUTO} (the default) reads every style it knows: {@code X-RateLimit-Limit}/{@code -Remaining}/{@code
 * -Reset} (GitHub, X, Discord, Shopify; the reset as epoch seconds or seconds from now, or {@code
 * X-RateLimit-Reset-After}), {@code RateLimit-Limit}/{@code -Remaining}/{@code -Reset}, the IETF structured fields
 * {@code RateLimit-Policy} and {@code RateLimit} (draft-ietf-httpapi-ratelimit-headers: named policies,
 * {@code "name";r=..;t=..}, several per response, and the earlier {@code limit=, remaining=, reset=} form), and
 * {@code Retry-After} (seconds or an HTTP date: nothing left until then). A reset given as a number is epoch
 * seconds when at least {@value #EPOCH_THRESHOLD}, else seconds from now. {@link #OFF} reads nothing;
 * {@link #mapping} reads three named headers.
 *
 * <p>A malformed value (not a non-negative number, an unreadable field) is ignored and counted in
 * {@link QuotaReading#malformed()}, never an error. Immutable; this class is threadsafe.
 */
public final class QuotaHeaders {

    /** How a mapped reset header is written. */
    public enum ResetFormat {
        /** Epoch seconds when at least {@value QuotaHeaders#EPOCH_THRESHOLD}, else seconds from now. */
        AUTO,
        /** Seconds since the epoch. */
        EPOCH_SECONDS,
        /** Seconds from the response. */
        SECONDS
    }

    /** The longest policy name kept; a longer one makes its member malformed. */
    static final int MAX_POLICY_NAME = 64;
    /** A reset number at least this large is epoch seconds (2001-09-09), smaller ones are seconds from now. */
    public static final long EPOCH_THRESHOLD = 1_000_000_000L;
    private static final long NANOS = 1_000_000_000L;

    /** Every known style; the default. */
    public static final QuotaHeaders AUTO = new QuotaHeaders(true, null, null, null, ResetFormat.AUTO);
    /** Reads nothing: the engine learns only from 429s. */
    public static final QuotaHeaders OFF = new QuotaHeaders(false, null, null, null, ResetFormat.AUTO);

    private final boolean enabled;
    private final String limitHeader;
    private final String remainingHeader;
    private final String resetHeader;
    private final ResetFormat resetFormat;

    private QuotaHeaders(boolean enabled, String limitHeader, String remainingHeader, String resetHeader,
                         ResetFormat resetFormat) {
        this.enabled = enabled;
        this.limitHeader = limitHeader;
        this.remainingHeader = remainingHeader;
        this.resetHeader = resetHeader;
        this.resetFormat = resetFormat;
    }

    /**
     * Reads only the named headers, e.g. {@code mapping("X-Quota-Limit", "X-Quota-Left", "X-Quota-Reset",
     * ResetFormat.SECONDS)}; {@code limit} may be null.
     *
     * @throws NullPointerException if {@code remaining}, {@code reset} or {@code format} is null
     */
    public static QuotaHeaders mapping(String limit, String remaining, String reset, ResetFormat format) {
        return new QuotaHeaders(true, limit, Objects.requireNonNull(remaining, "remaining"),
                Objects.requireNonNull(reset, "reset"), Objects.requireNonNull(format, "format"));
    }

    /** What {@link #cost} answers for a value that is not a whole number >= 0. */
    public static final long MALFORMED_COST = -2;

    /**
     * The units a call cost by its response's header {@code name} (an endpoint's {@code cost_header}, e.g. GraphQL
     * points used): a whole number >= 0; -1 when {@code name} is null or the header absent; {@link #MALFORMED_COST}
     * when malformed. Never throws.
     */
    public static long cost(HttpHeaders headers, String name) {
        if (name == null || headers == null) {
            return -1;
        }
        String v = headers.first(name).map(String::trim).orElse(null);
        if (v == null) {
            return -1;
        }
        long n = wholeNumber(v);
        return n < 0 ? MALFORMED_COST : n;
    }

    /** Whether any header is read. */
    public boolean enabled() {
        return enabled;
    }

    /** Whether this reads named headers only. */
    public boolean isMapping() {
        return remainingHeader != null;
    }

    /**
     * The quotas {@code headers} report, read at {@code now} (nanoseconds on the engine's epoch-anchored clock).
     * Never throws for a bad header value.
     */
    public QuotaReading read(HttpHeaders headers, long now) {
        if (!enabled || headers == null || headers.isEmpty()) {
            return QuotaReading.NONE;
        }
        Reader r = new Reader(headers, now);
        if (isMapping()) {
            r.triple("", limitHeader, remainingHeader, resetHeader, null, resetFormat);
        } else {
            r.triple("", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                    "X-RateLimit-Reset-After", ResetFormat.AUTO);
            r.triple("", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", null, ResetFormat.AUTO);
            r.structured();
            r.retryAfter();
        }
        return r.quotas.isEmpty() && r.malformed == 0 ? QuotaReading.NONE : new QuotaReading(r.quotas, r.malformed);
    }

    /**
     * The quota signals of one response for an endpoint: what {@link #read(HttpHeaders, long)} finds, with the cost
     * {@link #cost} reads from {@code costHeader} (null for none). The one reading every route makes of a response
     * (the library's requests, {@code /proxy/{endpoint}}, the proxy port). Never throws for a bad header value.
     */
    public QuotaReading read(HttpHeaders headers, String costHeader, long now) {
        return read(headers, now).withCost(cost(headers, costHeader));
    }

    @Override
    public String toString() {
        if (!enabled) {
            return "QuotaHeaders[off]";
        }
        return isMapping() ? "QuotaHeaders[limit=" + limitHeader + ", remaining=" + remainingHeader + ", reset="
                + resetHeader + ", reset_format=" + resetFormat.name().toLowerCase(Locale.ROOT) + "]"
                : "QuotaHeaders[auto]";
    }

    /** One response's reading in progress. */
    private static final class Reader {
        final HttpHeaders headers;
        final long now;
        final List<UpstreamQuota> quotas = new ArrayList<>(2);
        int malformed;

        Reader(HttpHeaders headers, long now) {
            this.headers = headers;
            this.now = now;
        }

        String value(String name) {
            return name == null ? null : headers.first(name).map(String::trim).orElse(null);
        }

        /** A count header: a non-negative whole number, else -1 (and counted when present). */
        long count(String name) {
            String v = value(name);
            if (v == null) {
                return -1;
            }
            long n = wholeNumber(v);
            if (n < 0) {
                malformed++;
            }
            return n;
        }

        void triple(String policy, String limitName, String remainingName, String resetName, String resetAfterName,
                    ResetFormat format) {
            long limit = count(limitName);
            long remaining = count(remainingName);
            long resetAt = 0;
            String after = value(resetAfterName);
            if (after != null) {
                resetAt = seconds(after, ResetFormat.SECONDS);
            }
            String reset = value(resetName);
            if (reset != null && resetAt == 0) {
                resetAt = seconds(reset, format);
            }
            if (remaining >= 0) {
                quotas.add(new UpstreamQuota(policy, limit, remaining, resetAt, now));
            }
        }

        /** A reset in seconds (a decimal number) as a clock time; 0 when malformed (counted). */
        long seconds(String v, ResetFormat format) {
            BigDecimal d;
            try {
                d = new BigDecimal(v);
            } catch (NumberFormatException e) {
                malformed++;
                return 0;
            }
            if (d.signum() < 0 || d.compareTo(BigDecimal.valueOf(Long.MAX_VALUE / NANOS)) > 0) {
                malformed++;
                return 0;
            }
            long nanos = d.movePointRight(9).setScale(0, java.math.RoundingMode.CEILING).longValueExact();
            boolean epoch = format == ResetFormat.EPOCH_SECONDS
                    || (format == ResetFormat.AUTO && d.compareTo(BigDecimal.valueOf(EPOCH_THRESHOLD)) >= 0);
            return epoch ? nanos : dev.proxymanager.middleware.clock.Clock.plus(now, nanos);
        }

        void retryAfter() {
            String v = value("Retry-After");
            if (v == null) {
                return;
            }
            long at;
            long secs = wholeNumber(v);
            if (secs >= 0) {
                at = dev.proxymanager.middleware.clock.Clock.plus(now, Math.min(secs, Long.MAX_VALUE / NANOS) * NANOS);
            } else {
                try {
                    Instant i = DateTimeFormatter.RFC_1123_DATE_TIME.parse(v, Instant::from);
                    at = Math.max(now, dev.proxymanager.middleware.clock.Clock.toNanos(i));
                } catch (RuntimeException unreadable) {
                    malformed++;
                    return;
                }
            }
            if (at > now) {
                quotas.add(new UpstreamQuota("retry-after", -1, 0, at, now));
            }
        }

        /**
         * {@code RateLimit-Policy: "burst";q=100;w=60, "day";q=1000;w=86400} with {@code RateLimit: "burst";r=0;t=30,
         * "day";r=500;t=3600}; or the earlier draft's {@code RateLimit: limit=100, remaining=50, reset=30}.
         */
        void structured() {
            String rl = value("RateLimit");
            if (rl == null) {
                return;
            }
            List<Member> members;
            try {
                members = Member.parseList(rl);
            } catch (IllegalArgumentException e) {
                malformed++;
                return;
            }
            if (!members.isEmpty() && members.get(0).isDictionaryEntry()) {
                Map<String, String> dict = new HashMap<>();
                for (Member m : members) {
                    dict.put(m.key(), m.value());
                }
                if (!dict.containsKey("remaining")) {
                    malformed++;
                    return;
                }
                long remaining = wholeNumber(dict.get("remaining"));
                long limit = dict.containsKey("limit") ? wholeNumber(dict.get("limit")) : -1;
                long reset = dict.containsKey("reset") ? wholeNumber(dict.get("reset")) : -1;
                if (remaining < 0 || (dict.containsKey("limit") && limit < 0) || (dict.containsKey("reset") && reset < 0)) {
                    malformed++;
                    return;
                }
                quotas.add(new UpstreamQuota("", limit, remaining,
                        reset < 0 ? 0 : dev.proxymanager.middleware.clock.Clock.plus(now, reset * NANOS), now));
                return;
            }
            Map<String, Long> limits = policies();
            for (Member m : members) {
                String r = m.params().get("r");
                long remaining = r == null ? -1 : wholeNumber(r);
                String t = m.params().get("t");
                long reset = t == null ? 0 : wholeNumber(t);
                if (remaining < 0 || reset < 0 || m.item().length() > MAX_POLICY_NAME) {
                    malformed++; // a name is shown on the dashboard and in events: no essays
                    continue;
                }
                long at = t == null ? 0 : dev.proxymanager.middleware.clock.Clock.plus(now, reset * NANOS);
                quotas.add(new UpstreamQuota(m.item(), limits.getOrDefault(m.item(), -1L), remaining, at, now));
            }
        }

        /** {@code RateLimit-Policy}: each named policy's quota {@code q}. */
        Map<String, Long> policies() {
            String p = value("RateLimit-Policy");
            Map<String, Long> out = new LinkedHashMap<>();
            if (p == null) {
                return out;
            }
            try {
                for (Member m : Member.parseList(p)) {
                    String q = m.params().get("q");
                    long n = q == null ? -1 : wholeNumber(q);
                    if (n < 0) {
                        malformed++;
                    } else {
                        out.put(m.item(), n);
                    }
                }
            } catch (IllegalArgumentException e) {
                malformed++;
            }
            return out;
        }
    }

    /** A whole number >= 0, or -1 when {@code v} is not one. */
    static long wholeNumber(String v) {
        if (v == null || v.isEmpty() || v.length() > 18) {
            return -1;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        return Long.parseLong(v);
    }

    /**
     * One member of a structured-field list: an item (a string or token; for the dictionary form, the key) with
     * its parameters, or a dictionary entry {@code key=value}.
     */
    record Member(String item, String key, String value, Map<String, String> params) {

        boolean isDictionaryEntry() {
            return key != null;
        }

        /** Splits on commas and semicolons outside quotes; refuses an unterminated string or an empty member. */
        static List<Member> parseList(String field) {
            List<Member> out = new ArrayList<>();
            for (String member : split(field, ',')) {
                List<String> parts = split(member, ';');
                String head = parts.get(0).trim();
                if (head.isEmpty()) {
                    throw new IllegalArgumentException("empty member");
                }
                Map<String, String> params = new HashMap<>();
                for (int i = 1; i < parts.size(); i++) {
                    String p = parts.get(i).trim();
                    int eq = p.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("parameter without a value");
                    }
                    params.put(p.substring(0, eq).trim().toLowerCase(Locale.ROOT), unquote(p.substring(eq + 1).trim()));
                }
                int eq = head.indexOf('=');
                if (!head.startsWith("\"") && eq > 0) {
                    out.add(new Member(null, head.substring(0, eq).trim().toLowerCase(Locale.ROOT),
                            unquote(head.substring(eq + 1).trim()), params));
                } else {
                    out.add(new Member(unquote(head), null, null, params));
                }
            }
            return out;
        }

        private static String unquote(String s) {
            if (s.startsWith("\"")) {
                if (s.length() < 2 || !s.endsWith("\"")) {
                    throw new IllegalArgumentException("unterminated string");
                }
                return s.substring(1, s.length() - 1);
            }
            return s;
        }

        private static List<String> split(String s, char sep) {
            List<String> out = new ArrayList<>();
            boolean quoted = false;
            int start = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"') {
                    quoted = !quoted;
                } else if (c == sep && !quoted) {
                    out.add(s.substring(start, i));
                    start = i + 1;
                }
            }
            if (quoted) {
                throw new IllegalArgumentException("unterminated string");
            }
            out.add(s.substring(start));
            return out;
        }
    }
}
