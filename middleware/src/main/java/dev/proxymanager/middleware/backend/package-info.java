/**
 * Backend outages, one rule for all: {@link dev.proxymanager.middleware.backend.BackendGate} says whether a backend
 * (the usage store, the cache store, the request log's cluster, the dashboard's history) is presumed down and when
 * the next call may probe it. Imports no backend client, so every module can use it.
 */
package dev.proxymanager.middleware.backend;
