package dev.proxymanager.server.loadtest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code loadtest}: the picocli subcommand around {@link LoadTest}. Exit code 0 when the success rate is at least
 * {@code --min-success-rate}, 1 otherwise. */
@Command(name = "loadtest", mixinStandardHelpOptions = true,
        description = "Send many concurrent GET requests to a URL and report success rate, throughput and p50/p95/p99.")
public final class LoadTestCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "The URL to call, e.g. http://127.0.0.1:8080/proxy/demo-api/items/1")
    URI url;

    @Option(names = "--concurrent", defaultValue = "100", description = "Parallel requests (default ${DEFAULT-VALUE}).")
    int concurrent;

    @Option(names = "--total-requests", defaultValue = "1000", description = "Requests in all (default ${DEFAULT-VALUE}).")
    int totalRequests;

    @Option(names = "--timeout", defaultValue = "30", description = "Per-request timeout in seconds (default ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = "--header", description = "A header to send, Name:value (repeatable).")
    java.util.List<String> headers = new java.util.ArrayList<>();

    @Option(names = "--min-success-rate", defaultValue = "95", description = "Success rate in % below which the exit code is 1 (default ${DEFAULT-VALUE}).")
    double minSuccessRate;

    @Override
    public Integer call() throws Exception {
        LoadTest.Builder b = LoadTest.builder(url).withConcurrent(concurrent).withTotalRequests(totalRequests)
                .withTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000)));
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--header must look like Name:value, was '" + h + "'");
            }
            b.withHeader(h.substring(0, colon).strip(), h.substring(colon + 1).strip());
        }
        LoadTest test = b.build();
        System.out.println("loadtest: " + totalRequests + " requests, " + concurrent + " concurrent, to " + url);
        LoadTestReport report = test.run(System.err);
        System.out.print(report.describe());
        return report.successRate() * 100 >= minSuccessRate ? 0 : 1;
    }
}
