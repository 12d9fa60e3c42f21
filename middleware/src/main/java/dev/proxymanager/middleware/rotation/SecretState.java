package dev.proxymanager.middleware.rotation;

/** The state of a secret as shown in stats. */
public enum SecretState {
    /** Can be handed out now. */
    READY,
    /** Every lease slot is held. */
    LEASED,
    /** A sliding-window limit is reached; free again at {@code nextAvailable}. */
    RATE_LIMITED,
    /** Cooling down until {@code coolingDownUntil}. */
    COOLING_DOWN,
    /** Out of rotation until restored. */
    REMOVED
}
