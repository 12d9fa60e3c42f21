package dev.proxymanager.middleware.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * HttpClient's name lookup with the {@link ConnectGuard} applied to each answer: the addresses it returns are the only
 * ones HttpClient connects to, so the guard sees exactly what is connected to.
 */
final class GuardedDnsResolver implements DnsResolver {

    private final DnsResolver resolver;
    private final ConnectGuard guard;

    GuardedDnsResolver(DnsResolver resolver, ConnectGuard guard) {
        this.resolver = resolver;
        this.guard = guard;
    }

    GuardedDnsResolver(ConnectGuard guard) {
        this(SystemDefaultDnsResolver.INSTANCE, guard);
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] addresses = resolver.resolve(host);
        // every answer must pass: connecting falls through the list, so one bad address is reachable
        for (InetAddress address : addresses) {
            String refusal = guard.refusesAddress(host, address);
            if (refusal != null) {
                throw new ForbiddenTargetException(refusal);
            }
        }
        return addresses;
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return resolver.resolveCanonicalHostname(host);
    }
}
