/**
 * Per-secret auxiliary tokens (e.g. guest tokens fetched through a proxy) with single-flight refresh:
 * {@link dev.proxymanager.middleware.token.AuxiliaryTokens} over a pluggable
 * {@link dev.proxymanager.middleware.token.TokenRefresher}.
 */
package dev.proxymanager.middleware.token;
