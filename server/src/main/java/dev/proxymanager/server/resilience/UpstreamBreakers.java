package dev.proxymanager.server.resilience;

import dev.proxymanager.middleware.clock.Clock;
import dev.proxymanager.middleware.health.OutcomeKind;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One Resilience4j circuit breaker per upstream endpoint: it opens after {@code threshold} consecutive failures
 * (a count window of that size at a 100 % failure rate), fails fast while open, lets one trial call through after
 * {@code openDuration} (half-open) and closes again when it succeeds. Time comes from the injected {@link Clock}, so
 * tests advance a fake clock instead of sleeping. This class is threadsafe.
 */
public final class UpstreamBreakers {

    private final CircuitBreakerRegistry registry;
    private final Duration openDuration;
    private final Clock clock;
    private volatile Consumer<CircuitBreaker> onCreate = b -> { };
    private final java.util.Set<String> announced = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param threshold consecutive failures that open a breaker; must be > 0
     * @param openDuration how long a breaker stays open before a trial call; must be > 0
     * @param clock the time source
     * @throws IllegalArgumentException when threshold or openDuration is out of range
     */
    public UpstreamBreakers(int threshold, Duration openDuration, Clock clock) {
        if (threshold <= 0) {
            throw new IllegalArgumentException("circuit_breaker_threshold must be > 0, was " + threshold);
        }
        this.openDuration = Objects.requireNonNull(openDuration, "openDuration");
        this.clock = Objects.requireNonNull(clock, "clock");
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(threshold)
                .minimumNumberOfCalls(threshold)
                .failureRateThreshold(100f)
                .waitDurationInOpenState(openDuration)
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .clock(clock.asJavaClock()) // Resilience4j reads wall time from a java.time.Clock
                .currentTimestampFunction(c -> clock.nanoTime(), TimeUnit.NANOSECONDS)
                .build();
        this.registry = CircuitBreakerRegistry.of(config);
    }

    /** Calls {@code listener} once for each breaker when it is created (metrics bind their gauges here). */
    public void onCreate(Consumer<CircuitBreaker> listener) {
        this.onCreate = Objects.requireNonNull(listener, "listener");
    }

    /** The breaker of {@code endpoint}, created closed on first use. */
    public CircuitBreaker forEndpoint(String endpoint) {
        CircuitBreaker b = registry.circuitBreaker(endpoint);
        if (announced.add(endpoint)) {
            onCreate.accept(b);
        }
        return b;
    }

    /**
     * Reports a finished call to {@code breaker}: an {@linkplain OutcomeKind#upstreamFailure() upstream failure}
     * (5xx, timeout, connection error) counts against the upstream; anything else — a ban or a 429 included, which
     * are about one secret — counts as a success.
     *
     * @param elapsedNanos how long the call took
     * @param description what happened, without secrets (the error the breaker records)
     */
    public void record(CircuitBreaker breaker, OutcomeKind outcome, long elapsedNanos, String description) {
        if (outcome.upstreamFailure()) {
            breaker.onError(elapsedNanos, TimeUnit.NANOSECONDS, new IOException(description));
        } else {
            breaker.onSuccess(elapsedNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** How long a rejected caller should wait: the configured open duration. */
    public Duration retryAfter() {
        return openDuration;
    }

    /** The state of every breaker created so far, by endpoint ("closed", "open", "half_open", …). */
    public Map<String, String> states() {
        Map<String, String> m = new TreeMap<>();
        registry.getAllCircuitBreakers().forEach(b -> m.put(b.getName(), b.getState().name().toLowerCase(java.util.Locale.ROOT)));
        return m;
    }

    /** The clock the breakers read. */
    public Clock clock() {
        return clock;
    }
}
