package dev.proxymanager.server.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** The real curl binary as a proxy client: status of the response, of the CONNECT, headers and body. */
record Curl(int status, int connectStatus, String headers, String body) {

    /**
     * Runs curl with {@code args} (e.g. {@code -x http://user:pass@127.0.0.1:port URL}), printing the response
     * head(s) and body.
     */
    static Curl run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--max-time", "30", "--noproxy", "",
                "-w", "\n%{http_code} %{http_connect}"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.toLowerCase(Locale.ROOT).endsWith("_proxy"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(40, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("curl did not finish: " + out);
        }
        int nl = out.lastIndexOf('\n');
        String[] codes = out.substring(nl + 1).trim().split(" ");
        String response = out.substring(0, Math.max(0, nl));
        // the last response head (after a CONNECT's own head, if any)
        int last = response.lastIndexOf("\r\n\r\n");
        int head = response.lastIndexOf("HTTP/1.", last < 0 ? response.length() : last);
        String headers = head < 0 ? response : response.substring(head, last < 0 ? response.length() : last);
        String body = last < 0 ? "" : response.substring(last + 4);
        return new Curl(Integer.parseInt(codes[0]), codes.length > 1 ? Integer.parseInt(codes[1]) : 0, headers, body);
    }

    /** The first value of header {@code name} in the final response head, or null. */
    String header(String name) {
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }
}
