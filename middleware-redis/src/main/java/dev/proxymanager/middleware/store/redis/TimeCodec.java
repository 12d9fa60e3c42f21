package dev.proxymanager.middleware.store.redis;

/**
 * Times (nanoseconds on the engine's timeline, ~1.8e18 for today) as the Lua script holds them: 19-digit
 * zero-padded decimals, so that comparing the strings compares the times and the script never converts a number
 * (Lua numbers are doubles, and conversions were most of the script's cost). For times since 2001 this is the plain
 * decimal form. Threadsafe (stateless).
 */
final class TimeCodec {

    /** The width of every encoded time: {@link Long#MAX_VALUE} has 19 digits. */
    static final int WIDTH = 19;

    private static final long PADDING_NEEDED_BELOW = 1_000_000_000_000_000_000L;
    private static final String ZEROS = "0".repeat(WIDTH);

    private TimeCodec() {
    }

    /**
     * @throws IllegalArgumentException if {@code t} is negative: the timeline starts at the Unix epoch
     */
    static String encode(long t) {
        if (isPlainDecimal(t)) {
            return Long.toString(t);
        }
        if (t < 0) {
            throw new IllegalArgumentException("times on the usage store's timeline are not negative, was " + t);
        }
        String digits = Long.toString(t);
        return ZEROS.substring(digits.length()) + digits;
    }

    /** Whether {@code t}'s encoding is its plain decimal form, so it can be sent as a number. */
    static boolean isPlainDecimal(long t) {
        return t >= PADDING_NEEDED_BELOW;
    }

    static long decode(String text) {
        return Long.parseLong(text);
    }
}
