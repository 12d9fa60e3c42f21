package dev.proxymanager.middleware.config;

import java.time.Duration;

/**
 * At most {@code requests} uses in any sliding window of length {@code per}. When {@code cooldown} is positive the
 * limit is also a usage cap: the use that reaches it puts the secret in cooldown for that long (seed D: 500 uses
 * in 15 min → 15 min off). Immutable and threadsafe.
 *
 * @param requests uses allowed per window; &gt; 0
 * @param per window length; &gt; 0
 * @param cooldown cooldown when the cap is reached; {@link Duration#ZERO} for none
 * @param match the calls this limit counts, in a route bucket of their own; {@code null}: every call
 */
public record LimitConfig(int requests, Duration per, Duration cooldown, RouteMatch match) {

    public LimitConfig {
        SettingDefinitions.LIMIT_REQUESTS.check(requests);
        SettingDefinitions.LIMIT_PER.check(per);
        SettingDefinitions.LIMIT_COOLDOWN.check(cooldown);
        if (match != null && !cooldown.isZero()) {
            // a usage cap cools the whole secret down: not what a limit on some routes means
            throw new ConfigException("cooldown", "does not go with \"match\" (a route bucket's limit is no usage cap)");
        }
    }

    /** A limit counting every call. */
    public LimitConfig(int requests, Duration per, Duration cooldown) {
        this(requests, per, cooldown, null);
    }

    /** This limit counting only the calls {@code match} matches. */
    public LimitConfig matching(RouteMatch match) {
        return new LimitConfig(requests, per, cooldown, match);
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
