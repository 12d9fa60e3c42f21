package dev.proxymanager.middleware;

import java.util.Objects;

/**
 * The result of one call of a batch: its response, or the error that ended it.
 *
 * @param index the call's position in the batch
 * @param response the response, or null when the call failed
 * @param error what ended the call, or null when it has a response
 */
public record CallResult(int index, Response response, Throwable error) {

    public CallResult {
        if ((response == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of response and error must be set");
        }
    }

    static CallResult of(int index, Response response) {
        return new CallResult(index, Objects.requireNonNull(response, "response"), null);
    }

    static CallResult failed(int index, Throwable error) {
        return new CallResult(index, null, Objects.requireNonNull(error, "error"));
    }

    /** True when the call has a response (of any status). */
    public boolean isSuccess() {
        return response != null;
    }
}
