package dev.kiln.train.data;

import java.io.Serializable;

/**
 * Where a training stream continues: the pass over the data ({@code epoch}), the shard within that pass's seeded order
 * ({@code shard}, not an index into the input list), and the rows already taken from it. Checkpoints store it, so a
 * resumed run reads exactly the rows the killed one would have.
 */
public record DataPosition(int epoch, int shard, long row) implements Serializable {
    public static final DataPosition START = new DataPosition(0, 0, 0);

    public DataPosition {
        if (epoch < 0 || shard < 0 || row < 0) {
            throw new IllegalArgumentException("position fields must be >= 0, got " + epoch + "/" + shard + "/" + row);
        }
    }
}
