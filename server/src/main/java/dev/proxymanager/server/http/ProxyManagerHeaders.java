package dev.proxymanager.server.http;

import java.nio.charset.StandardCharsets;

/**
 * The response headers the server adds to what it relays, and how a secret's id is written into one. Ids are shown
 * to people (masked forms with "…", or whatever an operator chose), while a header value may hold visible ASCII
 * only: anything else is percent-encoded as UTF-8, so two ids never collapse into the same "?"-mangled value.
 * This class is threadsafe.
 */
public final class ProxyManagerHeaders {

    /** The id (never the value) of the secret that served the response. */
    public static final String SECRET = "X-Proxy-Manager-Secret";
    /**
     * What a call costs, set by the client on {@code /proxy/...} and {@code /api/v1/send}: a whole number of uses
     * counted in every limit that counts the call, overriding the endpoint's {@code costs}. Never forwarded.
     */
    public static final String COST = "X-Proxy-Manager-Cost";

    /**
     * The cost a client set in {@link #COST}; 0 when it set none.
     *
     * @throws dev.proxymanager.middleware.config.ConfigException naming the header, the value and the bounds
     */
    public static int cost(String value) {
        if (value == null) {
            return 0;
        }
        return dev.proxymanager.middleware.config.SettingDefinitions.COST.as(COST).parse(value, COST);
    }

    private ProxyManagerHeaders() {
    }

    /** {@code id} as a header value: visible ASCII as it is, {@code %} and every other byte as {@code %XX}. */
    public static String secretId(String id) {
        StringBuilder out = null;
        byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain = b > 0x20 && b < 0x7f && b != '%';
            if (out == null) {
                if (plain) {
                    continue;
                }
                out = new StringBuilder(bytes.length + 16).append(new String(bytes, 0, i, StandardCharsets.US_ASCII));
            }
            if (plain) {
                out.append((char) b);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out == null ? id : out.toString();
    }
}
