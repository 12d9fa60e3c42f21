package dev.proxymanager.middleware.store.redis;

/**
 * Times (nanoseconds, ~1.8e18 for today) as the Lua script reads them: {@code <seconds><9-digit nanos>}, exact
 * although Lua numbers are doubles (the script splits seconds and nanos). For non-negative values this is the
 * plain decimal form. Threadsafe (stateless).
 */
final class TimeCodec {

    private static final long E9 = 1_000_000_000L;

    private TimeCodec() {
    }

    static String encode(long t) {
        if (t >= 0) {
            String s = Long.toString(t);
            return s.length() >= 10 ? s : "0".repeat(10 - s.length()) + s;
        }
        long sec = Math.floorDiv(t, E9);
        String n = Long.toString(Math.floorMod(t, E9));
        return sec + "0".repeat(9 - n.length()) + n;
    }

    /** Decodes, saturating at {@link Long#MAX_VALUE}/{@link Long#MIN_VALUE} (sums in the script may overflow). */
    static long decode(String text) {
        int split = text.length() - 9;
        long sec = Long.parseLong(text, 0, split, 10);
        long nanos = Long.parseLong(text, split, text.length(), 10);
        try {
            return Math.addExact(Math.multiplyExact(sec, E9), nanos);
        } catch (ArithmeticException e) {
            return sec < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
