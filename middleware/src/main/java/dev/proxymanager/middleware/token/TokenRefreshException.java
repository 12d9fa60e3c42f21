package dev.proxymanager.middleware.token;

/** A token refresh failed; the message names the secret id (never a token). */
public class TokenRefreshException extends RuntimeException {

    /** A failure to refresh the token of {@code secretId}. */
    public TokenRefreshException(String secretId, Throwable cause) {
        super("refreshing the auxiliary token of secret " + secretId + " failed: " + cause, cause);
    }
}
