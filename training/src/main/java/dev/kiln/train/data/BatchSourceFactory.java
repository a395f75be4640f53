package dev.kiln.train.data;

import java.io.Serializable;

/**
 * Opens the part of a token data set that one of {@code workers} data-parallel workers trains on (disjoint parts).
 * Serializable: Spark ships it to the executors, which open their part where they run.
 */
public interface BatchSourceFactory extends Serializable {
    BatchSource open(int worker, int workers, int batchSize);

    int contextLength();

    int vocabSize();
}
