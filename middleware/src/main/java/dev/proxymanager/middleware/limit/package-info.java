/**
 * Exact sliding-window limits: {@link dev.proxymanager.middleware.limit.SlidingWindowLog} keeps a secret's most
 * recent use times and decides any number of "R uses per window w" limits in O(1) each.
 */
package dev.proxymanager.middleware.limit;
