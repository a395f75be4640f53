package dev.kiln.train.data;

import java.io.Serializable;

/**
 * Opens the stream one of {@code workers} data-parallel workers trains on. Serializable: Spark ships it to the
 * executors, which open their stream where they run.
 */
public interface BatchSourceFactory extends Serializable {
    /** Worker {@code worker}'s {@code batchSize} rows of every global minibatch of {@code workers x batchSize} rows. */
    BatchSource open(int worker, int workers, int batchSize);
}
