/**
 * Secret health: request {@link dev.proxymanager.middleware.health.Outcome}s, classified once by
 * {@link dev.proxymanager.middleware.health.OutcomeClassifier} into an
 * {@link dev.proxymanager.middleware.health.OutcomeKind} that every caller shares, feed a per-secret
 * {@link dev.proxymanager.middleware.health.HealthRecord}; {@link dev.proxymanager.middleware.health.HealthRules}
 * turns them into cooldowns (ban backoff, failure window, consecutive failures, Retry-After) or removal, and
 * {@link dev.proxymanager.middleware.health.ThompsonSampler} drives the health-weighted rotation.
 */
package dev.proxymanager.middleware.health;
