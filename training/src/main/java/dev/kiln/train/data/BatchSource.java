package dev.kiln.train.data;

/**
 * A resumable stream of training minibatches: each call to {@link #next()} gives {@code batch} rows of
 * {@code contextLength + 1} token ids (inputs are row[0..T), labels row[1..T]). The order is a pure function of
 * the source's seed and the {@link #position()}, so a checkpoint stores the position and {@link #seek} restores it.
 * Endless: it starts another pass over its data when one ends.
 */
public interface BatchSource extends AutoCloseable {
    int[][] next();

    /** Minibatches handed out so far. */
    long position();

    /** Continue as if {@code position} minibatches had been handed out. */
    void seek(long position);

    int contextLength();

    @Override
    default void close() {
    }
}
