package dev.kiln.train.data;

import dev.kiln.shards.ShardReader;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * Minibatches of training windows from a list of shards, streamed: one shard open and one record batch in memory.
 * Each batch is {@code int[batchSize][contextLength + 1]}; use {@link #inputs(int[][])} and {@link #labels(int[][])}
 * (or index {@code [0, T)} and {@code [1, T]} directly) for the model's inputs and next-token labels.
 *
 * <p><b>Order.</b> Without shuffling, rows come in shard-list order, then file order. With a seed, every epoch visits
 * the shards in a seeded permutation, each shard's record batches in a seeded permutation, and each record batch's
 * rows in a seeded permutation; all three depend only on (seed, epoch, shard, block), so the order is reproducible on
 * any machine and needs no memory beyond one record batch.
 *
 * <p><b>Resume.</b> {@link #position()} is where the next row comes from: (epoch, index into the epoch's shard order,
 * rows already taken from that shard). Opening again with the same shards, seed and that position continues with
 * exactly the rows the original would have produced next; this is what a checkpoint stores.
 *
 * <p><b>End.</b> With {@code repeat}, epochs follow each other forever and every batch is full. Without it, iteration
 * stops after one pass over the shards and the last batch may have fewer rows (evaluation needs every row).
 *
 * <p>Not thread-safe.
 */
public final class TokenBatches implements Iterator<int[][]>, Closeable {

    private final FileSystem fs;
    private final List<Path> shards;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean repeat;

    private int contextLength = -1;
    private int epoch;
    private int[] shardOrder;
    private int shardCursor;
    private ShardReader reader;
    private int[] blockOrder;
    private int blockCursor;
    private int[] rowOrder;
    private int rowCursor;
    private long rowsTakenFromShard;
    private int[][] pending;
    private boolean finished;

    private TokenBatches(Builder b) throws IOException {
        this.fs = b.fs;
        this.shards = List.copyOf(b.shards);
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.repeat = b.repeat;
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards to read");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        seek(b.start);
    }

    public static Builder builder(FileSystem fs, List<Path> shards) {
        return new Builder(fs, shards);
    }

    /** Options for {@link TokenBatches}; defaults: batch 16, no shuffle, one pass, from the start. */
    public static final class Builder {
        private final FileSystem fs;
        private final List<Path> shards;
        private int batchSize = 16;
        private boolean shuffle;
        private long seed;
        private boolean repeat;
        private DataPosition start = DataPosition.START;

        private Builder(FileSystem fs, List<Path> shards) {
            this.fs = fs;
            this.shards = new ArrayList<>(shards);
        }

        public Builder batchSize(int rows) {
            this.batchSize = rows;
            return this;
        }

        /** Seeded shuffle of shards, record batches and rows, different in each epoch. */
        public Builder shuffle(long seed) {
            this.shuffle = true;
            this.seed = seed;
            return this;
        }

        /** Loop over the shards forever (training); otherwise one pass (evaluation). */
        public Builder repeat(boolean repeat) {
            this.repeat = repeat;
            return this;
        }

        /** Continue from a {@link TokenBatches#position()} saved with a checkpoint. */
        public Builder startAt(DataPosition position) {
            this.start = position;
            return this;
        }

        public TokenBatches open() throws IOException {
            return new TokenBatches(this);
        }
    }

    /** {@code contextLength} of the shards (all must agree; checked as each one opens). */
    public int contextLength() {
        return contextLength;
    }

    public DataPosition position() {
        return new DataPosition(epoch, shardCursor, rowsTakenFromShard);
    }

    @Override
    public boolean hasNext() {
        if (pending == null && !finished) {
            pending = fill();
        }
        return pending != null;
    }

    @Override
    public int[][] next() {
        if (!hasNext()) {
            throw new NoSuchElementException("one pass over " + shards.size() + " shards is complete");
        }
        int[][] out = pending;
        pending = null;
        return out;
    }

    /** {@code [B][T]}: the first T tokens of each row. */
    public static int[][] inputs(int[][] batch) {
        int[][] out = new int[batch.length][];
        for (int i = 0; i < batch.length; i++) {
            out[i] = Arrays.copyOfRange(batch[i], 0, batch[i].length - 1);
        }
        return out;
    }

    /** {@code [B][T]}: the last T tokens of each row, the next-token labels of {@link #inputs(int[][])}. */
    public static int[][] labels(int[][] batch) {
        int[][] out = new int[batch.length][];
        for (int i = 0; i < batch.length; i++) {
            out[i] = Arrays.copyOfRange(batch[i], 1, batch[i].length);
        }
        return out;
    }

    private int[][] fill() {
        int[][] batch = null;
        int n = 0;
        try {
            while (n < batchSize) {
                if (!advanceToRow()) {
                    finished = true;
                    break;
                }
                if (batch == null) {
                    batch = new int[batchSize][contextLength + 1];
                }
                reader.copyRow(rowOrder[rowCursor++], batch[n++], 0);
                rowsTakenFromShard++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (n == 0) {
            return null;
        }
        return n == batchSize ? batch : Arrays.copyOf(batch, n);
    }

    /** Makes (reader, rowOrder, rowCursor) point at a readable row; false when one pass is over and repeat is off. */
    private boolean advanceToRow() throws IOException {
        int emptyShardsInARow = 0;
        while (true) {
            if (reader != null && rowCursor < rowOrder.length) {
                return true;
            }
            if (reader != null && blockCursor < blockOrder.length) {
                loadBlock(blockOrder[blockCursor++]);
                continue;
            }
            // The current shard is exhausted (or none is open): move to the next one.
            if (reader != null) {
                closeReader();
                shardCursor++;
                rowsTakenFromShard = 0;
            }
            if (shardCursor >= shards.size()) {
                if (!repeat) {
                    return false;
                }
                startEpoch(epoch + 1);
            }
            openShard();
            if (blockOrder.length == 0 && ++emptyShardsInARow > shards.size()) {
                throw new IllegalStateException("every shard is empty: nothing to train on");
            }
        }
    }

    private void seek(DataPosition p) throws IOException {
        startEpoch(p.epoch());
        if (p.shard() > shards.size() || (p.shard() == shards.size() && p.row() > 0)) {
            throw new IllegalArgumentException("position " + p + " is past the " + shards.size() + " shards");
        }
        shardCursor = p.shard();
        if (shardCursor == shards.size()) {
            return;
        }
        openShard();
        // Skip whole record batches by their row counts, then rows within the batch the position falls in.
        long skip = p.row();
        while (skip > 0) {
            if (blockCursor >= blockOrder.length) {
                throw new IllegalArgumentException("position " + p + " is past the end of shard " + shards.get(shardOrder[shardCursor]));
            }
            int rows = reader.loadBlock(blockOrder[blockCursor]);
            if (skip >= rows) {
                skip -= rows;
                blockCursor++;
                rowsTakenFromShard += rows;
            } else {
                loadBlock(blockOrder[blockCursor++]);
                rowCursor = (int) skip;
                rowsTakenFromShard += skip;
                skip = 0;
            }
        }
    }

    private void startEpoch(int e) {
        epoch = e;
        shardCursor = 0;
        shardOrder = shuffle ? permutation(shards.size(), mix(seed, e, -1, -1)) : identity(shards.size());
    }

    private void openShard() throws IOException {
        int index = shardOrder[shardCursor];
        reader = ShardReader.open(fs, shards.get(index));
        if (contextLength < 0) {
            contextLength = reader.contextLength();
        } else if (reader.contextLength() != contextLength) {
            int other = reader.contextLength();
            closeReader();
            throw new IllegalStateException(shards.get(index) + " has context length " + other + ", earlier shards " + contextLength);
        }
        int blocks = reader.blockCount();
        blockOrder = shuffle ? permutation(blocks, mix(seed, epoch, index, -1)) : identity(blocks);
        blockCursor = 0;
        rowOrder = new int[0];
        rowCursor = 0;
        rowsTakenFromShard = 0;
    }

    private void loadBlock(int block) {
        int rows = reader.loadBlock(block);
        int index = shardOrder[shardCursor];
        rowOrder = shuffle ? permutation(rows, mix(seed, epoch, index, block)) : identity(rows);
        rowCursor = 0;
    }

    private void closeReader() throws IOException {
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }

    @Override
    public void close() throws IOException {
        closeReader();
        finished = true;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    /** Fisher-Yates with java.util.Random, whose sequence the Java spec fixes: the same on every JVM. */
    private static int[] permutation(int n, long seed) {
        int[] a = identity(n);
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static long mix(long seed, long epoch, long shard, long block) {
        long h = seed;
        h = splitMix(h ^ splitMix(epoch + 0x9E3779B97F4A7C15L));
        h = splitMix(h ^ splitMix(shard + 0x632BE59BD9B4E019L));
        return splitMix(h ^ splitMix(block + 0x85157AF5L));
    }

    private static long splitMix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
