package dev.proxymanager.server.dashboard;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** A real Jetty on a free loopback port with the dashboard mounted at {@code /dashboard}, as the server does. */
final class DashboardServer implements AutoCloseable {
    private final Server server;

    DashboardServer(DashboardHandler dashboard) throws Exception {
        server = new Server(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        server.setHandler(new ContextHandler(dashboard, "/dashboard"));
        server.start();
    }

    /** e.g. {@code http://127.0.0.1:41234/dashboard/} */
    String dashboardUrl() {
        return "http://127.0.0.1:" + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "/dashboard/";
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the dashboard's test server did not stop", e);
        }
    }
}
