package dev.proxymanager.middleware.log;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link RequestLog} that keeps every document in memory, for tests of code that logs requests. Unbounded.
 *
 * <p>This class is threadsafe.
 */
public final class InMemoryRequestLog implements RequestLog {
    private final List<RequestLogEntry> entries = new CopyOnWriteArrayList<>();
    private final List<SecretEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void record(RequestLogEntry entry) {
        entries.add(entry);
    }

    @Override
    public void record(SecretEvent event) {
        events.add(event);
    }

    /** The recorded attempts, in order. */
    public List<RequestLogEntry> entries() {
        return List.copyOf(entries);
    }

    /** The recorded secret events, in order. */
    public List<SecretEvent> events() {
        return List.copyOf(events);
    }

    /** All documents as they would be stored, attempts first. */
    public List<Map<String, Object>> documents() {
        List<Map<String, Object>> docs = new ArrayList<>();
        entries.forEach(e -> docs.add(e.toDocument()));
        events.forEach(e -> docs.add(e.toDocument()));
        return docs;
    }

    @Override
    public int bufferedCount() {
        return 0;
    }

    @Override
    public long droppedCount() {
        return 0;
    }

    @Override
    public long deliveredCount() {
        return entries.size() + events.size();
    }

    @Override
    public void close() {
    }
}
