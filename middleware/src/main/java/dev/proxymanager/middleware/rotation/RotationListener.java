package dev.proxymanager.middleware.rotation;

/**
 * Told about secrets' state changes (cooldowns, bans, removals, restorations). Called on the thread that caused
 * the change, after the engine's locks are released; must be quick and threadsafe. Exceptions it throws are
 * logged and otherwise ignored.
 */
@FunctionalInterface
public interface RotationListener {

    /** A secret changed state. */
    void onStateChange(SecretStateEvent event);
}
