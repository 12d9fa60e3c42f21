package dev.proxymanager.monitor.deployment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Logstash pipeline configuration, parsed: its {@code input}, {@code filter} and {@code output} sections and their
 * plugins with their settings. Covers the language our pipeline uses (plugins, strings, numbers, barewords, arrays,
 * hashes, comments); a conditional or anything else fails the parse.
 *
 * @param sections section name → its plugins, in order
 */
record LogstashConfig(Map<String, List<Plugin>> sections) {

    /**
     * One plugin block.
     *
     * @param name the plugin ({@code tcp}, {@code elasticsearch})
     * @param settings setting name → a String, a {@code List<Object>} or a {@code Map<String, Object>}
     */
    record Plugin(String name, Map<String, Object> settings) {
        String string(String setting) {
            Object value = settings.get(setting);
            return value == null ? null : value.toString();
        }
    }

    List<Plugin> plugins(String section, String name) {
        return sections.getOrDefault(section, List.of()).stream().filter(p -> p.name().equals(name)).toList();
    }

    static LogstashConfig parse(String text) {
        return new Parser(text).config();
    }

    private static final class Parser {
        private final String text;
        private int at;

        Parser(String text) {
            this.text = text;
        }

        LogstashConfig config() {
            Map<String, List<Plugin>> sections = new LinkedHashMap<>();
            while (skipSpace()) {
                String section = word();
                if (!List.of("input", "filter", "output").contains(section)) {
                    throw error("expected input, filter or output, was " + section);
                }
                expect('{');
                List<Plugin> plugins = sections.computeIfAbsent(section, s -> new ArrayList<>());
                while (skipSpace() && peek() != '}') {
                    String name = word();
                    if (name.equals("if") || name.equals("else")) {
                        throw error("conditionals are not supported by this parser");
                    }
                    expect('{');
                    plugins.add(new Plugin(name, settings()));
                }
                expect('}');
            }
            return new LogstashConfig(sections);
        }

        /** Settings up to and including the closing brace. */
        private Map<String, Object> settings() {
            Map<String, Object> settings = new LinkedHashMap<>();
            while (skipSpace() && peek() != '}') {
                String key = peek() == '"' || peek() == '\'' ? quoted() : word();
                skipSpace();
                if (!text.startsWith("=>", at)) {
                    throw error("expected => after " + key);
                }
                at += 2;
                if (settings.put(key, value()) != null) {
                    throw error("duplicate setting " + key);
                }
            }
            expect('}');
            return settings;
        }

        private Object value() {
            skipSpace();
            char c = peek();
            if (c == '"' || c == '\'') {
                return quoted();
            }
            if (c == '[') {
                at++;
                List<Object> values = new ArrayList<>();
                while (skipSpace() && peek() != ']') {
                    values.add(value());
                    skipSpace();
                    if (peek() == ',') {
                        at++;
                    }
                }
                expect(']');
                return values;
            }
            if (c == '{') {
                at++;
                return settings();
            }
            return word();
        }

        private String quoted() {
            char quote = text.charAt(at++);
            StringBuilder value = new StringBuilder();
            while (at < text.length() && text.charAt(at) != quote) {
                char c = text.charAt(at++);
                if (c == '\\' && at < text.length()) {
                    c = text.charAt(at++);
                }
                value.append(c);
            }
            if (at >= text.length()) {
                throw error("unterminated string");
            }
            at++;
            return value.toString();
        }

        private String word() {
            skipSpace();
            int start = at;
            while (at < text.length() && (Character.isLetterOrDigit(text.charAt(at)) || "_-.@".indexOf(text.charAt(at)) >= 0)) {
                at++;
            }
            if (start == at) {
                throw error("expected a word");
            }
            return text.substring(start, at);
        }

        private void expect(char c) {
            skipSpace();
            if (at >= text.length() || text.charAt(at) != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private char peek() {
            return text.charAt(at);
        }

        /** Skips blanks and comments; false at the end of the text. */
        private boolean skipSpace() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c == '#') {
                    while (at < text.length() && text.charAt(at) != '\n') {
                        at++;
                    }
                } else if (Character.isWhitespace(c)) {
                    at++;
                } else {
                    return true;
                }
            }
            return false;
        }

        private IllegalArgumentException error(String message) {
            int line = 1 + (int) text.substring(0, Math.min(at, text.length())).chars().filter(c -> c == '\n').count();
            return new IllegalArgumentException("line " + line + ": " + message);
        }
    }
}
