package dev.kiln.train.data;

import dev.kiln.train.data.TokenBatches;

import java.io.Serializable;

/** Where a training stream continues: pass over the data, shard within that pass's order, rows taken from it. */
public record DataPosition(int epoch, int shard, long row) implements Serializable {
    public static final DataPosition START = new DataPosition(0, 0, 0);

    static DataPosition of(TokenBatches.Position p) {
        return new DataPosition(p.epoch(), p.shard(), p.row());
    }

    TokenBatches.Position toShardPosition() {
        return new TokenBatches.Position(epoch, shard, row);
    }
}
