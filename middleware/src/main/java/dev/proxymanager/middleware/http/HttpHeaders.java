package dev.proxymanager.middleware.http;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * HTTP header fields as they are on the wire: an ordered list of name/value pairs in which a name may repeat (two
 * {@code Set-Cookie} or {@code Cookie} fields stay two fields, never joined). Names are matched in any case and
 * kept as given. The one header type of an exchange, from the server's route through the transport and back.
 *
 * <p>Instances are immutable. This class is threadsafe.
 */
public final class HttpHeaders {

    /** One header field. */
    public record Field(String name, String value) {
        /** @throws NullPointerException for a null name or value */
        public Field {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    private static final HttpHeaders EMPTY = new HttpHeaders(List.of());

    private final List<Field> fields;

    private HttpHeaders(List<Field> fields) {
        this.fields = fields;
    }

    /** No fields. */
    public static HttpHeaders empty() {
        return EMPTY;
    }

    /** The fields {@code fields}, in order. */
    public static HttpHeaders of(List<Field> fields) {
        return fields.isEmpty() ? EMPTY : new HttpHeaders(List.copyOf(fields));
    }

    /** One field per entry of {@code headers}, in its iteration order; null gives no fields. */
    public static HttpHeaders fromMap(Map<String, String> headers) {
        if (headers == null || headers.isEmpty()) {
            return EMPTY;
        }
        List<Field> out = new ArrayList<>(headers.size());
        headers.forEach((k, v) -> out.add(new Field(k, v)));
        return new HttpHeaders(List.copyOf(out));
    }

    /** One field per value of {@code headers}, name by name; null gives no fields. */
    public static HttpHeaders fromMultimap(Map<String, ? extends Collection<String>> headers) {
        if (headers == null || headers.isEmpty()) {
            return EMPTY;
        }
        List<Field> out = new ArrayList<>();
        headers.forEach((k, vs) -> vs.forEach(v -> out.add(new Field(k, v))));
        return of(out);
    }

    /** Starts an empty list of fields to add to. */
    public static Builder builder() {
        return new Builder();
    }

    /** The fields, in order; unmodifiable. */
    public List<Field> fields() {
        return fields;
    }

    /** The first value of {@code name} (any case). */
    public Optional<String> first(String name) {
        for (Field f : fields) {
            if (f.name().equalsIgnoreCase(name)) {
                return Optional.of(f.value());
            }
        }
        return Optional.empty();
    }

    /** Every value of {@code name} (any case), in order; empty when absent. */
    public List<String> all(String name) {
        List<String> out = new ArrayList<>(1);
        for (Field f : fields) {
            if (f.name().equalsIgnoreCase(name)) {
                out.add(f.value());
            }
        }
        return out;
    }

    /** These fields without any named {@code name} (any case). */
    public HttpHeaders without(String name) {
        List<Field> out = new ArrayList<>(fields.size());
        for (Field f : fields) {
            if (!f.name().equalsIgnoreCase(name)) {
                out.add(f);
            }
        }
        return out.size() == fields.size() ? this : of(out);
    }

    /** Values by lower-cased name, each name's values in order (the order across names is lost); unmodifiable. */
    public Map<String, List<String>> toMultimap() {
        Map<String, List<String>> m = new TreeMap<>();
        for (Field f : fields) {
            m.computeIfAbsent(f.name().toLowerCase(Locale.ROOT), n -> new ArrayList<>()).add(f.value());
        }
        m.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(m);
    }

    public int size() {
        return fields.size();
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HttpHeaders h && h.fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    /** Names only: header values may carry credentials. */
    @Override
    public String toString() {
        return "HttpHeaders" + fields.stream().map(Field::name).toList();
    }

    /** Collects fields in order; {@link #build()} copies them. This class is <em>not</em> threadsafe. */
    public static final class Builder {
        private final List<Field> fields = new ArrayList<>();

        private Builder() {
        }

        /** Adds a field after those already added (a repeated name adds a second field). */
        public Builder add(String name, String value) {
            fields.add(new Field(name, value));
            return this;
        }

        public HttpHeaders build() {
            return of(fields);
        }
    }
}
