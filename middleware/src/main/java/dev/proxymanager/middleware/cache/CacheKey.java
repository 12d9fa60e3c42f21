package dev.proxymanager.middleware.cache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The identity of a cacheable request: its canonical key material and the SHA-256 of that material, which is the
 * cache document's {@code _id}.
 *
 * <p>Canonical form: the method upper-cased; the URL with scheme and host lower-cased, the default port, user
 * info and fragment dropped, an empty path as {@code /}, and query parameters (the URL's and the extra
 * {@code params}) sorted by name, keeping the order of repeated values; JSON bodies re-serialised with sorted
 * keys, form bodies with sorted fields; the values of the endpoint's vary headers (names lower-cased).
 *
 * <p><b>Secrets never enter the key</b>: the query parameters and headers named by
 * {@link Builder#withSecretQueryParameters} and {@link Builder#withSecretHeaders}, plus {@code Authorization},
 * {@code Proxy-Authorization} and URL user info (proxy or basic-auth credentials), are left out of the material,
 * so they are neither hashed nor stored. Two requests that differ only by the key used share an entry.
 *
 * <p>Instances are immutable. This class is threadsafe.
 */
public final class CacheKey {
    /** Version of the key material format; part of the material, so a format change starts a fresh cache. */
    public static final int MATERIAL_VERSION = 1;

    /** Headers that carry credentials and are never part of a key, whatever the endpoint says. */
    public static final Set<String> ALWAYS_EXCLUDED_HEADERS = Set.of("authorization", "proxy-authorization");

    private static final ObjectMapper SORTED_JSON = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private final String endpoint;
    private final String method;
    private final String url;
    private final Map<String, List<String>> params;
    private final String data;
    private final Map<String, List<String>> headers;
    private final String material;
    private final String id;

    private CacheKey(String endpoint, String method, String url, Map<String, List<String>> params, String data,
                     Map<String, List<String>> headers) {
        this.endpoint = endpoint;
        this.method = method;
        this.url = url;
        this.params = params;
        this.data = data;
        this.headers = headers;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", MATERIAL_VERSION);
        m.put("endpoint", endpoint);
        m.put("method", method);
        m.put("url", url);
        m.put("data", data);
        m.put("headers", headers);
        try {
            this.material = SORTED_JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cache key material could not be serialised", e);
        }
        this.id = sha256(material);
    }

    /**
     * Starts a key for {@code method} on {@code url}.
     *
     * @throws NullPointerException if an argument is null
     */
    public static Builder builder(String method, String url) {
        return new Builder(method, url);
    }

    /** The document id: lower-case hex SHA-256 of {@link #material()}. */
    public String id() {
        return id;
    }

    /** The exact string that was hashed (canonical JSON); stored with the entry so a key can be explained. */
    public String material() {
        return material;
    }

    /** The endpoint name, or {@code ""} when none was given. */
    public String endpoint() {
        return endpoint;
    }

    /** The upper-case method. */
    public String method() {
        return method;
    }

    /** The normalised URL with all query parameters sorted in and secrets left out. */
    public String url() {
        return url;
    }

    /** All query parameters (the URL's and the extra ones), sorted by name, secrets left out; decoded. */
    public Map<String, List<String>> params() {
        return params;
    }

    /** The canonical body, or null when the request has none. Binary bodies are {@code base64:}-prefixed. */
    public String data() {
        return data;
    }

    /** The vary headers' values by lower-case name, secrets left out. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey k && k.id.equals(id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "CacheKey[" + method + " " + url + " id=" + id + "]";
    }

    private static String sha256(String s) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** Builds a {@link CacheKey}. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final String method;
        private final String url;
        private String endpoint = "";
        private final List<Map.Entry<String, String>> extraParams = new ArrayList<>();
        private byte[] body;
        private String contentType;
        private final Map<String, List<String>> requestHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        private final Set<String> varyHeaders = new TreeSet<>();
        private final Set<String> secretHeaders = new TreeSet<>(ALWAYS_EXCLUDED_HEADERS);
        private final Set<String> secretQueryParameters = new TreeSet<>();

        private Builder(String method, String url) {
            this.method = Objects.requireNonNull(method, "method").trim().toUpperCase(Locale.ROOT);
            this.url = Objects.requireNonNull(url, "url");
            if (this.method.isEmpty()) {
                throw new IllegalArgumentException("cache key method must not be blank");
            }
        }

        /** The endpoint name from secrets.json; part of the key. Default {@code ""}. */
        public Builder withEndpoint(String endpoint) {
            this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
            return this;
        }

        /** Extra query parameters sent with the URL (the original API's {@code params}); order kept per name. */
        public Builder withParams(Map<String, ? extends Collection<String>> params) {
            params.forEach((name, values) -> values.forEach(v -> extraParams.add(Map.entry(name, v))));
            return this;
        }

        /** The request body and its content type (which decides JSON/form canonicalisation); both may be null. */
        public Builder withBody(byte[] body, String contentType) {
            this.body = body == null ? null : body.clone();
            this.contentType = contentType;
            return this;
        }

        /** All request headers; only the vary headers among them enter the key. */
        public Builder withHeaders(Map<String, ? extends Collection<String>> headers) {
            headers.forEach((name, values) -> requestHeaders.computeIfAbsent(name, n -> new ArrayList<>())
                    .addAll(values));
            return this;
        }

        /** Request header names whose values vary the key (the policy's {@code vary_headers}). */
        public Builder withVaryHeaders(Collection<String> names) {
            names.forEach(n -> varyHeaders.add(n.toLowerCase(Locale.ROOT)));
            return this;
        }

        /** Header names that carry secrets (the endpoint's key header); never part of the key. */
        public Builder withSecretHeaders(Collection<String> names) {
            names.forEach(n -> secretHeaders.add(n.toLowerCase(Locale.ROOT)));
            return this;
        }

        /** Query parameter names that carry secrets (the endpoint's key parameter); never part of the key. */
        public Builder withSecretQueryParameters(Collection<String> names) {
            secretQueryParameters.addAll(names);
            return this;
        }

        /**
         * @throws IllegalArgumentException if the URL is not an absolute http(s) URL
         */
        public CacheKey build() {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("cache key url is not a valid URI: " + e.getMessage(), e);
            }
            String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
            if (scheme == null || uri.getHost() == null) {
                throw new IllegalArgumentException("cache key url must be absolute with a host, was "
                        + redactedForMessage(uri));
            }
            String host = uri.getHost().toLowerCase(Locale.ROOT);
            int port = uri.getPort();
            if (("http".equals(scheme) && port == 80) || ("https".equals(scheme) && port == 443)) {
                port = -1;
            }
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();

            List<Map.Entry<String, String>> pairs = parsePairs(uri.getRawQuery());
            pairs.addAll(extraParams);
            pairs.removeIf(p -> secretQueryParameters.contains(p.getKey()));
            pairs.sort(Map.Entry.comparingByKey()); // stable: repeated names keep their order
            Map<String, List<String>> sortedParams = new LinkedHashMap<>();
            for (Map.Entry<String, String> p : pairs) {
                sortedParams.computeIfAbsent(p.getKey(), k -> new ArrayList<>()).add(p.getValue());
            }

            StringBuilder canonical = new StringBuilder(scheme).append("://").append(host);
            if (port != -1) {
                canonical.append(':').append(port);
            }
            canonical.append(path);
            if (!pairs.isEmpty()) {
                canonical.append('?').append(encodePairs(pairs));
            }

            Map<String, List<String>> vary = new TreeMap<>();
            for (String name : varyHeaders) {
                if (secretHeaders.contains(name)) {
                    continue;
                }
                List<String> values = requestHeaders.get(name);
                if (values != null && !values.isEmpty()) {
                    vary.put(name, values.stream().map(String::trim).toList());
                }
            }
            Map<String, List<String>> params = new LinkedHashMap<>();
            sortedParams.forEach((k, v) -> params.put(k, List.copyOf(v)));
            return new CacheKey(endpoint, method, canonical.toString(), java.util.Collections.unmodifiableMap(params),
                    canonicalBody(), java.util.Collections.unmodifiableMap(vary));
        }

        private String canonicalBody() {
            if (body == null || body.length == 0) {
                return null;
            }
            String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
            String text = utf8OrNull(body);
            if (text != null && type.contains("json")) {
                try {
                    Object tree = SORTED_JSON.readValue(text, Object.class);
                    return SORTED_JSON.writeValueAsString(tree);
                } catch (JsonProcessingException e) {
                    return text; // not valid JSON after all: the raw text is still a faithful key
                }
            }
            if (text != null && type.startsWith("application/x-www-form-urlencoded")) {
                List<Map.Entry<String, String>> fields = parsePairs(text);
                fields.removeIf(p -> secretQueryParameters.contains(p.getKey()));
                fields.sort(Map.Entry.comparingByKey());
                return encodePairs(fields);
            }
            return text != null ? text : "base64:" + Base64.getEncoder().encodeToString(body);
        }
    }

    static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static List<Map.Entry<String, String>> parsePairs(String raw) {
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        if (raw == null || raw.isEmpty()) {
            return pairs;
        }
        for (String part : raw.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? "" : part.substring(eq + 1);
            pairs.add(Map.entry(decode(name), decode(value)));
        }
        return pairs;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // a stray '%' is kept literally rather than failing the request
        }
    }

    private static String encodePairs(List<Map.Entry<String, String>> pairs) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> p : pairs) {
            if (!sb.isEmpty()) {
                sb.append('&');
            }
            sb.append(URLEncoder.encode(p.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    private static String redactedForMessage(URI uri) {
        // the query may hold a key: never echo it
        return uri.getScheme() + ":" + (uri.getRawAuthority() == null ? "" : "//" + uri.getHost()) + uri.getRawPath();
    }

}
