package dev.proxymanager.middleware.store;

import java.util.List;

/**
 * The store's answer to one acquire: which candidate was granted (if any) and what it learned about each candidate
 * it examined, in order. Candidates after the granted one were not examined. Immutable and threadsafe.
 *
 * @param granted index of the granted candidate, or -1 when none could be granted
 * @param examined for each examined candidate, its availability after this call (for the granted one: when it can
 *                 be granted again)
 * @param capCooldownUntil when the grant reached a usage cap, the end of the cooldown it started; else 0
 */
public record StoreDecision(int granted, List<Availability> examined, long capCooldownUntil) {

    /** Whether a candidate was granted. */
    public boolean isGranted() {
        return granted >= 0;
    }
}
