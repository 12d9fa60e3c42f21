package dev.proxymanager.server.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.proxymanager.server.config.ServerConfigException;
import dev.proxymanager.server.config.ServerConfigLoader;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Bans by response body ({@code proxy_ban_body_patterns} in server.yaml): per proxy endpoint, regular expressions
 * that mark a response as a ban however its status reads (a captcha page served with 200). The first
 * {@value #CHECKED_BYTES} bytes of the body are checked, as sent (not decompressed). Plain and intercepted requests
 * of the proxy port are checked alike. Immutable and threadsafe.
 *
 * <pre>
 * proxy_ban_body_patterns:
 *   crawl: ["(?i)captcha", "Access denied"]
 * </pre>
 */
public final class BodyBanPatterns {

    /** How much of a body is checked: 256 KiB. */
    public static final int CHECKED_BYTES = 256 * 1024;
    /** The server.yaml key. */
    public static final String KEY = "proxy_ban_body_patterns";
    /** No patterns. */
    public static final BodyBanPatterns NONE = new BodyBanPatterns(Map.of());


    private final Map<String, List<Pattern>> byEndpoint;

    private BodyBanPatterns(Map<String, List<Pattern>> byEndpoint) {
        this.byEndpoint = Map.copyOf(byEndpoint);
    }

    /**
     * @throws IllegalArgumentException naming the endpoint, the index and the bad expression
     */
    public static BodyBanPatterns of(Map<String, List<String>> patterns) {
        Map<String, List<Pattern>> compiled = new java.util.HashMap<>();
        patterns.forEach((endpoint, list) -> {
            List<Pattern> ps = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                try {
                    ps.add(Pattern.compile(list.get(i)));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException(KEY + "." + endpoint + "[" + i + "] must be a regular expression,"
                            + " was '" + list.get(i) + "': " + e.getDescription(), e);
                }
            }
            compiled.put(endpoint, List.copyOf(ps));
        });
        return new BodyBanPatterns(compiled);
    }

    /**
     * Reads {@value #KEY} from server.yaml.
     *
     * @param file server.yaml, or {@code null} (no patterns)
     * @throws ServerConfigException naming the setting at fault
     */
    public static BodyBanPatterns load(Path file) {
        if (file == null) {
            return NONE;
        }
        JsonNode root = ServerConfigLoader.readYaml(file);
        JsonNode n = root == null ? null : root.get(KEY);
        if (n == null || n.isNull()) {
            return NONE;
        }
        if (!n.isObject()) {
            throw new ServerConfigException(KEY, "must map proxy endpoint names to lists of regular expressions, was "
                    + n.getNodeType());
        }
        Map<String, List<String>> patterns = new java.util.LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isArray()) {
                throw new ServerConfigException(KEY + "." + e.getKey(), "must be a list, was " + e.getValue().getNodeType());
            }
            List<String> list = new ArrayList<>();
            e.getValue().forEach(v -> list.add(v.asText()));
            patterns.put(e.getKey(), list);
        }
        try {
            return of(patterns);
        } catch (IllegalArgumentException e) {
            String[] settingAndRest = e.getMessage().split(" ", 2); // "proxy_ban_body_patterns.crawl[0] must be ..."
            throw new ServerConfigException(settingAndRest[0], settingAndRest[1], e);
        }
    }

    /** Whether {@code endpoint} has patterns (so its bodies must be looked at). */
    boolean checks(String endpoint) {
        return byEndpoint.containsKey(endpoint) && !byEndpoint.get(endpoint).isEmpty();
    }

    /** The first pattern of {@code endpoint} found in {@code bodyStart}, or {@code null}. */
    String match(String endpoint, byte[] bodyStart, int length) {
        // ISO-8859-1 maps every byte to one char: ASCII patterns match whatever the body's charset
        String text = new String(bodyStart, 0, length, StandardCharsets.ISO_8859_1);
        for (Pattern p : byEndpoint.getOrDefault(endpoint, List.of())) {
            if (p.matcher(text).find()) {
                return p.pattern();
            }
        }
        return null;
    }
}
