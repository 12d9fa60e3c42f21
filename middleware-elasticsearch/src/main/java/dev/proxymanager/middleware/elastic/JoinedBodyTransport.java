package dev.proxymanager.middleware.elastic;

import co.elastic.clients.json.JsonpMapper;
import co.elastic.clients.transport.ElasticsearchTransportBase;
import co.elastic.clients.transport.TransportOptions;
import co.elastic.clients.transport.http.TransportHttpClient;
import co.elastic.clients.transport.instrumentation.Instrumentation;
import co.elastic.clients.transport.rest5_client.Rest5ClientHttpClient;
import co.elastic.clients.transport.rest5_client.low_level.Rest5Client;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Rest5 client transport, except that a request body made of several buffers is joined into one before it is
 * sent.
 *
 * <p>Why: the client serialises a bulk request as four buffers per document (action, newline, source, newline), and
 * its entity hands the I/O reactor one buffer per output event, so a 2 000-document bulk took 8 000 turns of the
 * reactor's select loop — most of the client's CPU when shipping the request log, on the cores the node needs to
 * index. One joined buffer leaves in a few socket writes (docs/benchmarks.md, "Cache and request log"). Bodies of
 * one buffer pass through untouched.
 *
 * <p>This class is threadsafe.
 */
final class JoinedBodyTransport extends ElasticsearchTransportBase {

    JoinedBodyTransport(Rest5Client rest, JsonpMapper mapper) {
        this(new JoiningHttpClient(new Rest5ClientHttpClient(rest)), null, mapper, null);
    }

    private JoinedBodyTransport(TransportHttpClient http, TransportOptions options, JsonpMapper mapper,
                                Instrumentation instrumentation) {
        super(http, options, mapper, instrumentation);
    }

    @Override
    protected ElasticsearchTransportBase cloneWith(TransportOptions options, JsonpMapper mapper,
                                                   Instrumentation instrumentation) {
        return new JoinedBodyTransport(httpClient, options != null ? options : transportOptions,
                mapper != null ? mapper : this.mapper, instrumentation != null ? instrumentation : this.instrumentation);
    }

    /** One buffer holding all of {@code body}'s remaining bytes, or the body itself when it has at most one. */
    static Iterable<ByteBuffer> joined(Iterable<ByteBuffer> body) {
        if (body == null) {
            return null;
        }
        Iterator<ByteBuffer> it = body.iterator();
        if (!it.hasNext()) {
            return body;
        }
        it.next();
        if (!it.hasNext()) {
            return body;
        }
        int size = 0;
        for (ByteBuffer b : body) {
            size = Math.addExact(size, b.remaining());
        }
        ByteBuffer all = ByteBuffer.allocate(size);
        for (ByteBuffer b : body) {
            all.put(b.duplicate()); // duplicates: the separator buffer is shared by every request
        }
        return List.of(all.flip());
    }

    /** Passes every call to the Rest5 client, with the request body joined. */
    private record JoiningHttpClient(TransportHttpClient delegate) implements TransportHttpClient {

        private static Request join(Request r) {
            Iterable<ByteBuffer> body = joined(r.body());
            return body == r.body() ? r : new Request(r.method(), r.path(), r.queryParams(), r.headers(), body);
        }

        @Override
        public TransportOptions createOptions(TransportOptions options) {
            return delegate.createOptions(options);
        }

        @Override
        public Integer responseStatusCode(Throwable failure) {
            return delegate.responseStatusCode(failure);
        }

        @Override
        public Response performRequest(String endpointId, Node node, Request request, TransportOptions options)
                throws IOException {
            return delegate.performRequest(endpointId, node, join(request), options);
        }

        @Override
        public CompletableFuture<Response> performRequestAsync(String endpointId, Node node, Request request,
                                                               TransportOptions options) {
            return delegate.performRequestAsync(endpointId, node, join(request), options);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
