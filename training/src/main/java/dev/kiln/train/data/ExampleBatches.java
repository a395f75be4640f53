package dev.kiln.train.data;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Minibatches of labelled examples held in memory (one int row each, see {@code ClassifierModel.row}): every epoch
 * visits all of them once in an order drawn from (seed, epoch); a global minibatch is the next {@code workers x
 * batch} rows of that order, of which each worker keeps its slice, and the rows left at the end of an epoch (fewer
 * than a global minibatch) are skipped, so an epoch is exactly {@link #stepsPerEpoch} steps. The position is
 * (epoch, 0, row within the epoch's order): a checkpoint resumes exactly.
 */
public final class ExampleBatches implements BatchSource {
    private final int[][] rows;
    private final long seed;
    private final int worker;
    private final int workers;
    private final int batch;
    private int epoch;
    private int next;
    private int[] order;

    private ExampleBatches(int[][] rows, long seed, int worker, int workers, int batch) {
        if ((long) workers * batch > rows.length) {
            throw new IllegalArgumentException(rows.length + " training examples cannot fill one global minibatch of "
                    + workers + " workers x " + batch);
        }
        this.rows = rows;
        this.seed = seed;
        this.worker = worker;
        this.workers = workers;
        this.batch = batch;
        seek(DataPosition.START);
    }

    /** Optimizer steps per pass over {@code examples} examples. */
    public static int stepsPerEpoch(int examples, int workers, int batch) {
        return examples / (workers * batch);
    }

    @Override
    public int[][] next() {
        int global = workers * batch;
        if (next + global > rows.length) {
            epoch++;
            next = 0;
            order = order(epoch);
        }
        int[][] out = new int[batch][];
        for (int i = 0; i < batch; i++) {
            out[i] = rows[order[next + worker * batch + i]];
        }
        next += global;
        return out;
    }

    @Override
    public DataPosition position() {
        return new DataPosition(epoch, 0, next);
    }

    @Override
    public void seek(DataPosition position) {
        epoch = position.epoch();
        next = (int) position.row();
        order = order(epoch);
    }

    /** A permutation of the examples drawn from (seed, epoch) (Fisher-Yates). */
    private int[] order(int e) {
        int[] o = new int[rows.length];
        Arrays.setAll(o, i -> i);
        Random r = new Random(seed * 1_000_003L + e);
        for (int i = o.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }

    @Override
    public void close() {
    }

    /** The examples travel with the factory to the executors (fine for the thousands of documents of a fine-tune). */
    public record Factory(int[][] rows, long seed) implements BatchSourceFactory {
        public Factory {
            if (rows.length == 0) {
                throw new IllegalArgumentException("no training examples");
            }
        }

        public static Factory of(List<int[]> rows, long seed) {
            return new Factory(rows.toArray(new int[0][]), seed);
        }

        @Override
        public BatchSource open(int worker, int workers, int batchSize) {
            return new ExampleBatches(rows, seed, worker, workers, batchSize);
        }
    }
}
