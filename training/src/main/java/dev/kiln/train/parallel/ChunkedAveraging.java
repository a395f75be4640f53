package dev.kiln.train.parallel;

import dev.kiln.train.data.DataPosition;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

/**
 * The reduce half of a round, in Spark: every worker emits its state as pieces keyed by chunk id (see
 * {@link ChunkLayout}) plus one {@link #STATS} piece; a shuffle brings the workers' pieces of one chunk to one reduce
 * task, which sums them and divides by the workers; the driver then pulls the mean chunks one at a time
 * ({@code toLocalIterator}: one small job per chunk). So the summing is spread over the executors, no object is
 * bigger than a chunk, and the driver holds one mean chunk at a time, never all the workers' results.
 *
 * <p>Exactness: a chunk's pieces are summed in worker order ({@code ((w0 + w1) + w2) + ...}, float additions as
 * {@link Averaging#addInto}) and the sum is scaled by {@code 1f / workers} as {@link Averaging#divide}: with 2
 * workers this is bit for bit what a whole-state {@code treeReduce} gives (float addition commutes), and with more
 * it is one fixed order where a tree reduce's depends on which task finishes first.
 */
public final class ChunkedAveraging {
    /** The chunk id of the pieces that carry a worker's round statistics and data position. */
    public static final int STATS = -1;

    private ChunkedAveraging() {
    }

    /**
     * One worker's share of one chunk id: {@code values} (a chunk of its state) or, for {@link #STATS}, its round's
     * statistics and the data position after the round. After {@link #means} a piece holds the mean over the workers.
     */
    public record Piece(int worker, float[] values, RoundStats stats, DataPosition position) implements Serializable {
        static Piece stats(int worker, RoundStats stats, DataPosition position) {
            return new Piece(worker, null, stats, position);
        }

        static Piece chunk(int worker, float[] values) {
            return new Piece(worker, values, null, null);
        }
    }

    /**
     * The mean over {@code workers} of every chunk id in {@code pieces} (each worker must send each of the
     * {@code chunks} ids, and {@link #STATS}, exactly once), in chunk-id order, {@link #STATS} first (its stats are
     * the workers' {@link RoundStats#plus sum}, its position the lowest worker's).
     */
    public static Iterator<Tuple2<Integer, Piece>> means(JavaPairRDD<Integer, Piece> pieces, int chunks, int workers) {
        return pieces.groupByKey(new ChunkPartitioner(chunks + 1))
                .mapValues(group -> mean(group, workers))
                .toLocalIterator();
    }

    static Piece mean(Iterable<Piece> group, int workers) {
        List<Piece> byWorker = new ArrayList<>(workers);
        group.forEach(byWorker::add);
        byWorker.sort(Comparator.comparingInt(Piece::worker));
        if (byWorker.size() != workers) {
            throw new IllegalStateException("a chunk arrived from " + byWorker.size() + " workers, expected " + workers);
        }
        Piece first = byWorker.get(0);
        if (first.values() == null) {
            RoundStats sum = first.stats();
            for (int w = 1; w < workers; w++) {
                sum = sum.plus(byWorker.get(w).stats());
            }
            return Piece.stats(-1, sum, first.position());
        }
        float[] sum = first.values();
        for (int w = 1; w < workers; w++) {
            Averaging.addInto(sum, byWorker.get(w).values());
        }
        return Piece.chunk(-1, Averaging.divide(sum, workers));
    }

    /** Chunk id {@code k} to reduce partition {@code k + 1} ({@link #STATS} to 0): one chunk per reduce task. */
    static final class ChunkPartitioner extends Partitioner {
        private final int partitions;

        ChunkPartitioner(int partitions) {
            this.partitions = partitions;
        }

        @Override
        public int numPartitions() {
            return partitions;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key + 1;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ChunkPartitioner p && p.partitions == partitions;
        }

        @Override
        public int hashCode() {
            return partitions;
        }
    }
}
