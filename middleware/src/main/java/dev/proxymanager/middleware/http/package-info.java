/**
 * What an HTTP exchange carries through every layer unchanged: {@link dev.proxymanager.middleware.http.HttpHeaders},
 * ordered and multi-valued.
 */
package dev.proxymanager.middleware.http;
