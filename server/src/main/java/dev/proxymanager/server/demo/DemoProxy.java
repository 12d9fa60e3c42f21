package dev.proxymanager.server.demo;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ConnectHandler;
import org.eclipse.jetty.util.Callback;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;

/**
 * A tiny forward proxy on loopback standing for one "IP" of the demo's proxy pool. It forwards absolute-form
 * requests to the {@link DemoUpstream} only, and opens {@code CONNECT} tunnels to its HTTPS port only (never
 * anywhere else: it must not be an open proxy); adds {@value DemoUpstream#VIA_HEADER} with its name to plain
 * requests so the upstream can limit per "IP", and checks {@code Proxy-Authorization} when it has credentials
 * (407 otherwise). This class is threadsafe.
 */
public final class DemoProxy implements AutoCloseable {

    private static final Set<String> HOP = Set.of("connection", "keep-alive", "proxy-authorization", "proxy-connection",
            "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length");

    private final Server server;
    private final ServerConnector connector;
    private final String name;
    private final URI upstream;
    private final String expectedAuth;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param name this proxy's name, sent as {@value DemoUpstream#VIA_HEADER}
     * @param upstream the only origin forwarded to
     * @param userInfo {@code user:password} required from callers, or {@code null}
     * @param tunnelPort the only port on 127.0.0.1 {@code CONNECT} may reach (the site's HTTPS port), or -1: none
     */
    public DemoProxy(String name, URI upstream, String userInfo, int tunnelPort) {
        this.name = name;
        this.upstream = upstream;
        this.expectedAuth = userInfo == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
        this.server = new Server();
        this.connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        Handler plain = new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                forward(request, response, callback);
                return true;
            }
        };
        server.setHandler(new ConnectHandler(plain) {
            @Override
            public boolean validateDestination(String host, int port) {
                return tunnelPort > 0 && port == tunnelPort && host.equals("127.0.0.1");
            }

            @Override
            protected boolean handleAuthentication(Request request, Response response, String address) {
                return expectedAuth == null
                        || expectedAuth.equals(request.getHeaders().get(HttpHeader.PROXY_AUTHORIZATION));
            }
        });
    }

    /** Starts listening on a free loopback port. */
    public DemoProxy start() throws Exception {
        server.start();
        return this;
    }

    /** The bound port. */
    public int port() {
        return connector.getLocalPort();
    }

    private void forward(Request request, Response response, Callback callback) throws Exception {
        if (expectedAuth != null && !expectedAuth.equals(request.getHeaders().get(HttpHeader.PROXY_AUTHORIZATION))) {
            response.getHeaders().put(HttpHeader.PROXY_AUTHENTICATE, "Basic realm=\"demo-proxy\"");
            reply(response, callback, 407, "proxy authentication required");
            return;
        }
        var uri = request.getHttpURI();
        if (uri.getHost() == null || !uri.getHost().equals(upstream.getHost()) || uri.getPort() != upstream.getPort()) {
            reply(response, callback, 403, "this demo proxy forwards to the demo upstream only");
            return;
        }
        byte[] body = Content.Source.asInputStream(request).readAllBytes();
        HttpRequest.Builder out = HttpRequest.newBuilder(URI.create(uri.asString()))
                .timeout(Duration.ofSeconds(30))
                .method(request.getMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (HttpField f : request.getHeaders()) {
            if (!HOP.contains(f.getLowerCaseName()) && !f.getLowerCaseName().equals(DemoUpstream.VIA_HEADER.toLowerCase())) {
                out.header(f.getName(), f.getValue());
            }
        }
        out.header(DemoUpstream.VIA_HEADER, name);
        HttpResponse<byte[]> answer = client.send(out.build(), HttpResponse.BodyHandlers.ofByteArray());
        response.setStatus(answer.statusCode());
        answer.headers().map().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) {
                vs.forEach(v -> response.getHeaders().add(k, v));
            }
        });
        response.write(true, ByteBuffer.wrap(answer.body()), callback);
    }

    private static void reply(Response response, Callback callback, int status, String message) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
        response.write(true, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)), callback);
    }

    @Override
    public void close() throws Exception {
        server.stop();
        client.close();
    }
}
