package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.lease.SecretLease;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/** Shared builders for rotation tests. */
final class Fixtures {

    private Fixtures() {
    }

    /**
     * A key endpoint {@code api} with secrets k1..kn. Limits are exact windows here (no guard band), so tests read
     * the window rules plainly; the guard band has its own tests.
     */
    static EndpointConfig.Builder keys(String name, int n) {
        EndpointConfig.Builder b = EndpointConfig.builder(name, SecretType.KEY).withBaseUrl(URI.create("http://127.0.0.1:9"))
                .withLimitMargin(LimitMargin.NONE);
        for (int i = 1; i <= n; i++) {
            b.withSecret("k" + i, "key-value-number-" + i);
        }
        return b;
    }

    /** A proxy endpoint with proxies p1..pn; exact windows, as {@link #keys}. */
    static EndpointConfig.Builder proxies(String name, int n) {
        EndpointConfig.Builder b = EndpointConfig.builder(name, SecretType.PROXY).withLimitMargin(LimitMargin.NONE);
        for (int i = 1; i <= n; i++) {
            b.withSecret("p" + i, "http://127.0.0.1:" + (18000 + i));
        }
        return b;
    }

    static RotationEngine engine(FakeClock clock, EndpointConfig... endpoints) {
        RotationEngine.Builder b = RotationEngine.builder().withClock(clock).withRandomSeed(42);
        for (EndpointConfig e : endpoints) {
            b.withEndpoint(e);
        }
        return b.build();
    }

    static SecretLease granted(AcquireResult r) {
        assertThat(r).isInstanceOf(AcquireResult.Granted.class);
        return ((AcquireResult.Granted) r).lease();
    }

    static AcquireResult.Denied denied(AcquireResult r) {
        assertThat(r).isInstanceOf(AcquireResult.Denied.class);
        return (AcquireResult.Denied) r;
    }
}
