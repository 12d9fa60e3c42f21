package dev.proxymanager.middleware.config;

import java.time.Duration;
import java.util.Objects;

/**
 * At most {@code requests} uses in any sliding window of length {@code per}. When {@code cooldown} is positive the
 * limit is also a usage cap: the use that reaches it puts the secret in cooldown for that long (seed D: 500 uses
 * in 15 min → 15 min off). Immutable and threadsafe.
 *
 * @param requests uses allowed per window; &gt; 0
 * @param per window length; &gt; 0
 * @param cooldown cooldown when the cap is reached; {@link Duration#ZERO} for none
 */
public record LimitConfig(int requests, Duration per, Duration cooldown) {

    public LimitConfig {
        Objects.requireNonNull(per, "per");
        Objects.requireNonNull(cooldown, "cooldown");
        if (requests <= 0) {
            throw new IllegalArgumentException("requests must be > 0, was " + requests);
        }
        if (per.isNegative() || per.isZero()) {
            throw new IllegalArgumentException("per must be > 0, was " + per);
        }
        if (cooldown.isNegative()) {
            throw new IllegalArgumentException("cooldown must be >= 0, was " + cooldown);
        }
    }

    /** A limit without cooldown. */
    public static LimitConfig of(int requests, Duration per) {
        return new LimitConfig(requests, per, Duration.ZERO);
    }

    /** Whether reaching this limit starts a cooldown. */
    public boolean hasCooldown() {
        return !cooldown.isZero();
    }

    /** {@code 30 requests/60 s}, as shown in messages. */
    public String describe() {
        return requests + (requests == 1 ? " request/" : " requests/") + Durations.describe(per);
    }
}
