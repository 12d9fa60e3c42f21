package dev.proxymanager.middleware;

/** Told of a batch's progress ({@link Request#sendAll}); called from worker threads, so it must be threadsafe. */
@FunctionalInterface
public interface ProgressListener {

    /**
     * One more call finished.
     *
     * @param completed calls finished so far, 1..total
     * @param total calls in the batch
     */
    void onProgress(int completed, int total);

    /** A listener that does nothing. */
    static ProgressListener none() {
        return (completed, total) -> {
        };
    }
}
