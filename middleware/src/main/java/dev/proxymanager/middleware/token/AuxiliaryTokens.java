package dev.proxymanager.middleware.token;

import dev.proxymanager.middleware.clock.Clock;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Per-secret auxiliary tokens (seed D's guest token) with single-flight refresh: when many threads find a token
 * invalid at once, one refresh runs and all of them get its result; a token refreshed less than
 * {@code minRefreshInterval} ago (default 2 minutes) is not refreshed again, the current one is returned.
 * This class is threadsafe.
 */
public final class AuxiliaryTokens {

    /** Default minimum time between two refreshes of one secret's token: 2 minutes. */
    public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofMinutes(2);

    private record Token(String value, long refreshedAt) {
    }

    private final TokenRefresher refresher;
    private final Clock clock;
    private final long minIntervalNanos;
    private final ConcurrentHashMap<String, Token> tokens = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Token>> inFlight = new ConcurrentHashMap<>();

    /**
     * @param refresher fetches new tokens
     * @param clock time source for the minimum interval
     * @param minRefreshInterval refreshes closer together than this are skipped; &gt;= 0
     */
    public AuxiliaryTokens(TokenRefresher refresher, Clock clock, Duration minRefreshInterval) {
        this.refresher = Objects.requireNonNull(refresher, "refresher");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (minRefreshInterval.isNegative()) {
            throw new IllegalArgumentException("minRefreshInterval must be >= 0, was " + minRefreshInterval);
        }
        this.minIntervalNanos = minRefreshInterval.toNanos();
    }

    /**
     * The current token of {@code secretId}, fetching the first one if there is none.
     *
     * @throws TokenRefreshException when the first fetch fails
     */
    public String current(String secretId) {
        Token t = tokens.get(secretId);
        return t != null ? t.value : refresh(secretId, null);
    }

    /**
     * Reports that {@code staleToken} was rejected and returns a token to retry with: a fresh one, or the current
     * one if it differs from {@code staleToken} or was refreshed within the minimum interval. At most one refresh
     * per secret runs at a time; concurrent callers wait for it.
     *
     * @throws TokenRefreshException when the refresh fails (every waiting caller sees the same failure)
     */
    public String invalidate(String secretId, String staleToken) {
        return refresh(secretId, staleToken);
    }

    private String refresh(String secretId, String staleToken) {
        while (true) {
            Token t = tokens.get(secretId);
            if (t != null && (!t.value.equals(staleToken) || clock.nanoTime() - t.refreshedAt < minIntervalNanos)) {
                return t.value; // someone refreshed already, or too recently to try again
            }
            CompletableFuture<Token> mine = new CompletableFuture<>();
            CompletableFuture<Token> running = inFlight.putIfAbsent(secretId, mine);
            if (running != null) {
                return await(secretId, running).value;
            }
            try {
                Token again = tokens.get(secretId);
                if (again != t) {
                    mine.complete(again); // a refresh finished between our read and our claim
                    continue;
                }
                Token fresh = new Token(Objects.requireNonNull(refresher.refresh(secretId), "refreshed token"),
                        clock.nanoTime());
                tokens.put(secretId, fresh);
                mine.complete(fresh);
                return fresh.value;
            } catch (Exception e) {
                TokenRefreshException failure = new TokenRefreshException(secretId, e);
                mine.completeExceptionally(failure);
                throw failure;
            } finally {
                inFlight.remove(secretId, mine);
            }
        }
    }

    private static Token await(String secretId, CompletableFuture<Token> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenRefreshException(secretId, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof TokenRefreshException tre ? tre : new TokenRefreshException(secretId, e.getCause());
        }
    }
}
