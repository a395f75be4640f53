package dev.kiln.train.data;

/**
 * A resumable, endless stream of training minibatches: each {@link #next()} gives rows of {@code contextLength + 1}
 * token ids (inputs are row[0..T), labels row[1..T]). The order is a pure function of the data, the seed and the
 * {@link #position()}: a checkpoint stores the position and {@link #seek} continues from it.
 */
public interface BatchSource extends AutoCloseable {
    int[][] next();

    DataPosition position();

    void seek(DataPosition position);

    @Override
    void close();
}
