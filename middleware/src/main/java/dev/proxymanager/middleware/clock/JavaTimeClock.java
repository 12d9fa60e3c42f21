package dev.proxymanager.middleware.clock;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;

/** A {@link Clock} seen as a {@link java.time.Clock}; see {@link Clock#asJavaClock()}. This class is threadsafe. */
final class JavaTimeClock extends java.time.Clock {
    private final Clock clock;
    private final ZoneId zone;

    JavaTimeClock(Clock clock, ZoneId zone) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.zone = Objects.requireNonNull(zone, "zone");
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public java.time.Clock withZone(ZoneId newZone) {
        return new JavaTimeClock(clock, newZone);
    }

    @Override
    public Instant instant() {
        return clock.now();
    }

    @Override
    public long millis() {
        return clock.now().toEpochMilli();
    }
}
