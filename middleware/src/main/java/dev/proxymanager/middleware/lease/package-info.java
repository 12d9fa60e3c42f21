/**
 * Leases: {@link dev.proxymanager.middleware.lease.SecretLease} is what a caller holds while using a secret;
 * {@link dev.proxymanager.middleware.lease.LeaseTable} tracks a secret's holders with their TTLs.
 */
package dev.proxymanager.middleware.lease;
