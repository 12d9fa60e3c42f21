package dev.proxymanager.middleware.rotation;

import dev.proxymanager.middleware.clock.FakeClock;
import dev.proxymanager.middleware.config.EndpointConfig;
import dev.proxymanager.middleware.config.HealthPolicy;
import dev.proxymanager.middleware.config.LeaseMode;
import dev.proxymanager.middleware.config.LimitConfig;
import dev.proxymanager.middleware.config.LimitMargin;
import dev.proxymanager.middleware.config.RotationMethod;
import dev.proxymanager.middleware.config.SecretConfig;
import dev.proxymanager.middleware.SecretType;
import dev.proxymanager.middleware.health.Outcome;
import dev.proxymanager.middleware.lease.SecretLease;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random operation sequences against a deliberately simple reference model (lists of use times, lease expiries and
 * cooldowns, scanned in full): whenever the engine grants, the model agrees the secret was free; whenever it denies,
 * the model agrees none was, and the retry-after matches the model's earliest free time exactly.
 */
class RotationModelPropertyTest {

    sealed interface Op permits Acquire, Release, Advance {
    }

    record Acquire() implements Op {
    }

    /** Releases the held lease at index (mod size) with a 200, or a 503 with Retry-After seconds when &gt; 0. */
    record Release(int index, int retryAfterSeconds) implements Op {
    }

    record Advance(int millis) implements Op {
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(new Acquire())),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 50).flatMap(i ->
                        Arbitraries.integers().between(0, 8).map(r -> (Op) new Release(i, r < 6 ? 0 : r)))),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 6000).map(ms -> (Op) new Advance(ms))));
        return op.list().ofMinSize(1).ofMaxSize(120);
    }

    private static final long S = 1_000_000_000L;

    /** The model: every rule spelled out naively. */
    private static final class Model {
        final Map<String, List<Long>> uses = new HashMap<>();
        final Map<String, Map<String, Long>> leases = new HashMap<>(); // secret -> leaseId -> expiry
        final Map<String, Long> cooldown = new HashMap<>();
        final Map<String, List<LimitConfig>> limits = new HashMap<>();
        final int maxHolders;
        final long ttl;

        Model(EndpointConfig e) {
            for (SecretConfig s : e.secrets()) {
                List<LimitConfig> all = new ArrayList<>(e.limits());
                all.addAll(s.limits());
                limits.put(s.id(), all);
                uses.put(s.id(), new ArrayList<>());
                leases.put(s.id(), new HashMap<>());
            }
            maxHolders = e.effectiveMaxHolders();
            ttl = e.leaseTtl().toNanos();
        }

        long freeAt(String id, long now) {
            long free = Math.max(now, cooldown.getOrDefault(id, 0L));
            for (LimitConfig l : limits.get(id)) {
                long per = l.per().toNanos();
                List<Long> inWindow = uses.get(id).stream().filter(t -> t > now - per).sorted().toList();
                if (inWindow.size() >= l.requests()) {
                    free = Math.max(free, inWindow.get(inWindow.size() - l.requests()) + per);
                }
            }
            List<Long> live = leases.get(id).values().stream().filter(x -> x > now).sorted().toList();
            if (live.size() >= maxHolders) {
                free = Math.max(free, live.get(0));
            }
            return free;
        }
    }

    @Property(tries = 300)
    void engineAgreesWithReferenceModel(@ForAll("operations") List<Op> ops) {
        EndpointConfig e = EndpointConfig.builder("m", SecretType.PROXY)
                .withRotation(RotationMethod.ROUND_ROBIN).withLease(LeaseMode.SHARED).withMaxHolders(2)
                .withLeaseTtl(Duration.ofSeconds(20))
                .withLimit(LimitConfig.of(3, Duration.ofSeconds(10)))
                .withLimitMargin(LimitMargin.NONE) // the model's windows are exact
                .withHealth(new HealthPolicy(Set.of(), false, 10_000, Duration.ofMinutes(5), Duration.ofMinutes(10), 10_000,
                        Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMinutes(5), false))
                .withSecret(new SecretConfig("p1", "http://127.0.0.1:1", List.of(LimitConfig.of(1, Duration.ofSeconds(3)))))
                .withSecret("p2", "http://127.0.0.1:2")
                .withSecret("p3", "http://127.0.0.1:3")
                .build();
        FakeClock clock = new FakeClock();
        RotationEngine engine = Fixtures.engine(clock, e);
        Model model = new Model(e);
        List<SecretLease> held = new ArrayList<>();
        for (Op op : ops) {
            long now = clock.nanoTime();
            switch (op) {
                case Acquire a -> {
                    AcquireResult r = engine.acquire("m");
                    if (r instanceof AcquireResult.Granted g) {
                        String id = g.lease().secretId();
                        assertThat(model.freeAt(id, now)).as("model says %s is free at grant", id).isEqualTo(now);
                        model.uses.get(id).add(now);
                        model.leases.get(id).put(g.lease().leaseId(), now + model.ttl);
                        held.add(g.lease());
                    } else {
                        AcquireResult.Denied d = (AcquireResult.Denied) r;
                        long earliest = model.uses.keySet().stream().mapToLong(id -> model.freeAt(id, now)).min().orElseThrow();
                        assertThat(earliest).as("model has a free secret but engine denied: %s", d.reason()).isGreaterThan(now);
                        assertThat(d.retryAfter()).isEqualTo(Duration.ofNanos(earliest - now));
                    }
                }
                case Release rel -> {
                    if (!held.isEmpty()) {
                        SecretLease l = held.remove(rel.index() % held.size());
                        Outcome outcome = rel.retryAfterSeconds() > 0
                                ? Outcome.status(503, Duration.ofSeconds(rel.retryAfterSeconds())) : Outcome.success();
                        engine.release(l, outcome);
                        model.leases.get(l.secretId()).remove(l.leaseId());
                        if (rel.retryAfterSeconds() > 0) {
                            model.cooldown.merge(l.secretId(), now + rel.retryAfterSeconds() * S, Math::max);
                        }
                    }
                }
                case Advance adv -> clock.advance(Duration.ofMillis(adv.millis()));
            }
        }
        // and the stats agree on total uses
        for (SecretStats s : engine.stats("m")) {
            assertThat(s.totalUses()).isEqualTo(model.uses.get(s.secretId()).size());
        }
    }
}
