/**
 * The rotation engine: {@link dev.proxymanager.middleware.rotation.RotationEngine} hands out secrets
 * ({@link dev.proxymanager.middleware.rotation.AcquireResult}), takes them back with an outcome, reports
 * {@link dev.proxymanager.middleware.rotation.SecretStats} and tells
 * {@link dev.proxymanager.middleware.rotation.RotationListener}s about cooldowns, bans, removals and restorations.
 */
package dev.proxymanager.middleware.rotation;
