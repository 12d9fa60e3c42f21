package dev.proxymanager.middleware.rotation;

import java.io.IOException;

/**
 * A request was not sent: its use waited so long after its grant that a later grant took its slot, and no limit
 * admits it again within the wait allowed ({@link UseStamp}). Nothing reached the upstream, so it says nothing
 * about the secret's health.
 */
public final class UseNotAdmittedException extends IOException {

    public UseNotAdmittedException(String message) {
        super(message);
    }
}
