package dev.kiln.train.data;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Training minibatches from Arrow token shards ({@link TokenBatches}: seeded shuffle, endless epochs, exact resume).
 * Every worker reads the same global stream of {@code workers x batch} rows and keeps its own slice, so W workers
 * with batch b train, step for step, on exactly the rows one worker with batch W*b would, and all workers share one
 * {@link DataPosition}. The price is that each worker reads every row (cheap next to training at these speeds; a
 * shard-per-worker split would avoid it for large clusters).
 */
public final class ShardBatches implements BatchSource {
    private final FileSystem fs;
    private final List<Path> shards;
    private final long seed;
    private final int worker;
    private final int workers;
    private final int batch;
    private TokenBatches stream;

    private ShardBatches(FileSystem fs, List<Path> shards, long seed, int worker, int workers, int batch) {
        this.fs = fs;
        this.shards = shards;
        this.seed = seed;
        this.worker = worker;
        this.workers = workers;
        this.batch = batch;
        seek(DataPosition.START);
    }

    @Override
    public int[][] next() {
        int[][] global = stream.next(); // endless: every batch is full
        return Arrays.copyOfRange(global, worker * batch, (worker + 1) * batch);
    }

    @Override
    public DataPosition position() {
        return stream.position();
    }

    @Override
    public void seek(DataPosition position) {
        close();
        try {
            stream = TokenBatches.builder(fs, shards).batchSize(batch * workers).shuffle(seed).repeat(true)
                    .startAt(position).open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the training shards " + shards, e);
        }
    }

    @Override
    public void close() {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            stream = null;
        }
    }

    /** The training split of a shard folder; paths as strings so the factory serialises without Hadoop types. */
    public record Factory(List<String> shardPaths, long seed) implements BatchSourceFactory {
        public Factory {
            if (shardPaths.isEmpty()) {
                throw new IllegalArgumentException("no training shards");
            }
            shardPaths = List.copyOf(shardPaths);
        }

        public static Factory of(List<Path> shards, long seed) {
            return new Factory(shards.stream().map(Path::toString).toList(), seed);
        }

        @Override
        public BatchSource open(int worker, int workers, int batchSize) {
            List<Path> paths = shardPaths.stream().map(Path::new).toList();
            try {
                FileSystem fs = paths.get(0).getFileSystem(new Configuration());
                return new ShardBatches(fs, paths, seed, worker, workers, batchSize);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the file system of " + paths.get(0), e);
            }
        }
    }

    /**
     * The first {@code maxBatches} minibatches of a split, in file order (the same rows every time): the
     * validation set. Fewer if the split is smaller; the last one may be short.
     */
    public static List<int[][]> firstBatches(FileSystem fs, List<Path> shards, int batchSize, int maxBatches) {
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(batchSize).repeat(false).open()) {
            List<int[][]> out = new ArrayList<>();
            while (out.size() < maxBatches && b.hasNext()) {
                out.add(b.next());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the validation shards " + shards, e);
        }
    }
}
