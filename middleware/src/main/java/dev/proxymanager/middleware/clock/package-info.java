/**
 * The one injectable source of time: {@link dev.proxymanager.middleware.clock.Clock} (a monotonic, epoch-anchored
 * ticker plus wall time), {@link dev.proxymanager.middleware.clock.SystemClock} and, for tests in any module,
 * {@link dev.proxymanager.middleware.clock.FakeClock}.
 */
package dev.proxymanager.middleware.clock;
