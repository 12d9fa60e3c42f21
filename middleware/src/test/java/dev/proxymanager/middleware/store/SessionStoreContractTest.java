package dev.proxymanager.middleware.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** What every {@link SessionStore} promises; run against each implementation, the real Redis included. */
public abstract class SessionStoreContractTest {

    protected static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z, epoch ms
    protected static final Duration TTL = Duration.ofMinutes(10);

    protected SessionStore store;
    protected String endpoint;

    protected abstract SessionStore createStore();

    @BeforeEach
    void openStore() {
        store = createStore();
        endpoint = "sessions-" + System.identityHashCode(this);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void aBoundSessionIsFoundAndAnUnknownOneIsNot() {
        assertThat(store.bind(endpoint, "s1", "proxy-a", 0, T0, TTL)).isTrue();

        assertThat(store.boundSecret(endpoint, "s1", T0 + 1, TTL)).isEqualTo("proxy-a");
        assertThat(store.boundSecret(endpoint, "s2", T0 + 1, TTL)).isNull();
        assertThat(store.boundSecret("other-" + endpoint, "s1", T0 + 1, TTL)).isNull();
    }

    @Test
    void aSessionIdleForTheTtlIsForgottenAndEachUseRestartsItsIdleTime() {
        store.bind(endpoint, "s1", "proxy-a", 0, T0, TTL);
        store.bind(endpoint, "s2", "proxy-a", 0, T0, TTL);

        // s1 is used just before its TTL runs out; s2 is not
        assertThat(store.boundSecret(endpoint, "s1", T0 + TTL.toMillis() - 1, TTL)).isEqualTo("proxy-a");

        assertThat(store.boundSecret(endpoint, "s2", T0 + TTL.toMillis(), TTL)).isNull();
        assertThat(store.boundSecret(endpoint, "s1", T0 + TTL.toMillis() + 1000, TTL)).isEqualTo("proxy-a");
    }

    @Test
    void aSecretHoldingMaxSessionsRefusesAnotherUntilOneMovesOrGoesIdle() {
        assertThat(store.bind(endpoint, "s1", "proxy-a", 2, T0, TTL)).isTrue();
        assertThat(store.bind(endpoint, "s2", "proxy-a", 2, T0 + 5_000, TTL)).isTrue();

        // full: a third session is refused, one already bound is rebound
        assertThat(store.bind(endpoint, "s3", "proxy-a", 2, T0 + 10_000, TTL)).isFalse();
        assertThat(store.boundSecret(endpoint, "s3", T0 + 10_000, TTL)).isNull();
        assertThat(store.bind(endpoint, "s1", "proxy-a", 2, T0 + 10_000, TTL)).isTrue();

        // s1 moves to proxy-b: room on proxy-a
        assertThat(store.bind(endpoint, "s1", "proxy-b", 2, T0 + 20_000, TTL)).isTrue();
        assertThat(store.boundSecret(endpoint, "s1", T0 + 20_000, TTL)).isEqualTo("proxy-b");
        assertThat(store.bind(endpoint, "s3", "proxy-a", 2, T0 + 20_000, TTL)).isTrue();
        assertThat(store.bind(endpoint, "s4", "proxy-a", 2, T0 + 20_000, TTL)).isFalse();

        // s2 goes idle: room again
        assertThat(store.bind(endpoint, "s4", "proxy-a", 2, T0 + 5_000 + TTL.toMillis(), TTL)).isTrue();
    }
}
