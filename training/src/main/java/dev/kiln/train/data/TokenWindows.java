package dev.kiln.train.data;

import java.util.Random;

/**
 * Minibatches over a token sequence held in memory, cut into windows of T+1 tokens that overlap by one token
 * (the shard layout: window i covers tokens [iT, iT+T]). Each pass visits the windows in a fresh order drawn from
 * (seed, pass); worker w of W takes the windows at positions p = w (mod W) of that order, so W workers with batch
 * b see exactly the windows one worker with batch W*b sees, step by step.
 */
public final class TokenWindows implements BatchSource {
    private final int[] tokens;
    private final int t;
    private final int batch;
    private final int worker;
    private final int workers;
    private final long seed;
    private final int perWorker;
    private final long batchesPerPass;
    private long position;
    private long pass = -1;
    private int[] order;

    public TokenWindows(int[] tokens, int contextLength, int batch, int worker, int workers, long seed) {
        this.tokens = tokens;
        this.t = contextLength;
        this.batch = batch;
        this.worker = worker;
        this.workers = workers;
        this.seed = seed;
        long windows = (tokens.length - 1L) / contextLength;
        this.perWorker = (int) (windows / workers);
        this.batchesPerPass = perWorker / batch;
        if (batchesPerPass < 1) {
            throw new IllegalArgumentException("too little data: " + tokens.length + " tokens make " + windows
                    + " windows of " + (contextLength + 1) + ", fewer than " + workers + " workers x batch " + batch);
        }
    }

    @Override
    public int[][] next() {
        long p = position / batchesPerPass;
        int within = (int) (position % batchesPerPass);
        if (p != pass) {
            order = permutation((int) ((long) perWorker * workers), seed * 1_000_003L + p);
            pass = p;
        }
        int[][] rows = new int[batch][];
        for (int i = 0; i < batch; i++) {
            int window = order[(within * batch + i) * workers + worker];
            int[] row = new int[t + 1];
            System.arraycopy(tokens, window * t, row, 0, t + 1);
            rows[i] = row;
        }
        position++;
        return rows;
    }

    private static int[] permutation(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return a;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public void seek(long position) {
        this.position = position;
    }

    @Override
    public int contextLength() {
        return t;
    }

    public long batchesPerPass() {
        return batchesPerPass;
    }

    /** A factory over a token array (tests, benchmarks, and small corpora read whole). */
    public record Factory(int[] tokens, int contextLength, int vocabSize, long seed) implements BatchSourceFactory {
        @Override
        public BatchSource open(int worker, int workers, int batchSize) {
            return new TokenWindows(tokens, contextLength, batchSize, worker, workers, seed);
        }
    }
}
