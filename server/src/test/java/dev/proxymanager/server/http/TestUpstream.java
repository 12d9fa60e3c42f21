package dev.proxymanager.server.http;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real upstream on loopback for the route tests: echoes what it got (keeping the last body), can pad its answer,
 * fail with 500 or hold requests on a latch.
 */
final class TestUpstream implements AutoCloseable {
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    volatile int failWith;
    volatile CountDownLatch hold;
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger held = new AtomicInteger();
    final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
    volatile String lastUri;
    /** Added to every response (e.g. quota headers). */
    final Map<String, String> responseHeaders = new ConcurrentHashMap<>();
    /** Requests answered. */
    final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
    volatile String lastBody;
    /** When set, every answer is a 302 to this URL. */
    volatile String redirectTo;
    /** Extra bytes ('x') appended to each answer, to make it large. */
    volatile int padding;
    /** Run on each request before answering (e.g. to advance a fake clock while the upstream "works"). */
    volatile Runnable onRequest = () -> { };

    TestUpstream() throws Exception {
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                calls.incrementAndGet();
                lastHeaders.clear();
                for (HttpField f : request.getHeaders()) {
                    lastHeaders.put(f.getLowerCaseName(), f.getValue());
                }
                lastUri = request.getHttpURI().getPathQuery();
                lastBody = Content.Source.asString(request, StandardCharsets.UTF_8);
                onRequest.run();
                CountDownLatch latch = hold;
                if (latch != null) {
                    held.incrementAndGet();
                    latch.await(20, TimeUnit.SECONDS);
                }
                if (redirectTo != null) {
                    response.setStatus(302);
                    response.getHeaders().put("Location", redirectTo);
                    callback.succeeded();
                    return true;
                }
                int status = failWith == 0 ? 200 : failWith;
                response.setStatus(status);
                response.getHeaders().put("Content-Type", "text/plain");
                response.getHeaders().put("Connection", "keep-alive");
                responseHeaders.forEach(response.getHeaders()::put);
                requests.incrementAndGet();
                response.write(true, ByteBuffer.wrap(("upstream " + status + " " + lastUri + "x".repeat(padding))
                        .getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        CountDownLatch latch = hold;
        if (latch != null) {
            latch.countDown();
        }
        server.stop();
    }
}
