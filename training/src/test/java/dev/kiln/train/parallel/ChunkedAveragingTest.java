package dev.kiln.train.parallel;

import com.typesafe.config.Config;
import dev.kiln.model.GptConfig;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LocalSpark;
import dev.kiln.train.Pretraining;
import dev.kiln.train.SotuShards;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.data.DataPosition;
import dev.kiln.train.data.ShardBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import scala.Tuple2;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chunked averaging through Spark local[2]: the same bits as whole-state averaging, and no 2 GiB wall. */
class ChunkedAveragingTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path shards;

    @BeforeAll
    static void shards() throws IOException {
        shards = SotuShards.write(tmp.resolve("shards"), 128, 20); // the demo's context
    }

    /**
     * The demo's model shape (d 128, 2 layers, 4 heads, context 128; byte-level vocabulary) trained 3 rounds by 2
     * workers on local[2], once with the whole-state treeReduce Kiln used before and once in 1 MiB chunks (2 weight
     * and 4 moment chunks, the last of each partial): the global weights and AdamW moments are equal bit for bit.
     */
    @ParameterizedTest
    @CsvSource({"true, average", "false, nesterov"})
    void chunkedRoundsEqualWholeStateAveragingBitForBit(boolean averageMoments, String outer) throws IOException {
        Config c = TinyRuns.config(shards.toString(), tmp.resolve("unused").toString(), Map.of("model.d-model", "128",
                "batch-size", "4", "parallel.workers", "2", "parallel.average-every", "2", "parallel.chunk-mb", "1",
                "parallel.average-optimizer-state", String.valueOf(averageMoments), "parallel.outer-optimizer", outer));
        TrainConfig cfg = TrainConfig.from(c);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Manifest manifest = Manifest.read(fs, shards);
        GptConfig shape = Pretraining.modelShape(cfg, manifest);
        ShardBatches.Factory data = ShardBatches.Factory.of(manifest.shardPaths(shards, ShardSchema.TRAIN), cfg.seed());
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());

        Replica whole = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        Replica chunked = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        ChunkLayout layout = ChunkLayout.of(whole.model().numParams(), whole.optimizerState().length, 1);
        assertTrue(layout.paramChunks() >= 2 && layout.chunks() - layout.paramChunks() >= 4, "several chunks: " + layout);
        // One runner after the other: an executor's replica cache keeps one run at a time.
        List<float[]> weights = new ArrayList<>();
        List<double[]> losses = new ArrayList<>();
        List<DataPosition> positions = new ArrayList<>();
        float[] momentum;
        try (RoundRunner a = new WholeStateAveraging(sc, cfg.engine(),
                new ReplicaFactory.Pretrain(shape, cfg.engine(), cfg.learningRateSchedule()), data)) {
            for (int round = 0; round < 3; round++) {
                losses.add(a.run(whole, 2).losses());
                weights.add(whole.params());
                positions.add(a.position());
            }
            momentum = a.outerState();
        }
        try (SparkAveraging b = new SparkAveraging(LocalSpark.get(), cfg.engine(), shape, cfg.learningRateSchedule(), data)) {
            for (int round = 0; round < 3; round++) {
                RoundStats s = b.run(chunked, 2, round == 2); // the last round as before a checkpoint
                assertArrayEquals(losses.get(round), s.losses(), "round " + round + " losses");
                assertArrayEquals(weights.get(round), chunked.params(), "round " + round + " weights");
                assertEquals(positions.get(round), b.position(), "round " + round + " data position");
                if (round == 1) { // neither the first round nor one before a checkpoint
                    long travelling = averageMoments ? layout.bytes() : layout.params() * Float.BYTES;
                    assertEquals((1 + 2 + 1) * travelling, b.lastRoundBytes(),
                            "broadcast, 2 workers' pieces and the means: 4 copies of what travels");
                }
            }
            assertArrayEquals(whole.optimizerState(), chunked.optimizerState(), "AdamW moments after the last round");
            assertArrayEquals(momentum, b.outerState(), "DiLoCo momentum");
        }
    }

    /** A worker's pieces, each chunk generated when the shuffle asks for it (never the whole state at once). */
    record GeneratedPieces(ChunkLayout layout) implements PairFlatMapFunction<Integer, Integer, ChunkedAveraging.Piece> {
        @Override
        public Iterator<Tuple2<Integer, ChunkedAveraging.Piece>> call(Integer worker) {
            return IntStream.range(-1, layout.chunks()).mapToObj(id -> new Tuple2<>(id, piece(worker, id))).iterator();
        }

        private ChunkedAveraging.Piece piece(int worker, int id) {
            if (id == ChunkedAveraging.STATS) {
                return ChunkedAveraging.Piece.stats(worker, new RoundStats(1, 1, 10, new double[]{worker}, 0, 1), null);
            }
            float[] v = new float[layout.length(id)];
            long base = (layout.isMoments(id) ? layout.params() : 0) + layout.offset(id);
            for (int i = 0; i < v.length; i++) {
                v[i] = generated(worker, base + i);
            }
            return ChunkedAveraging.Piece.chunk(worker, v);
        }
    }

    static float generated(int worker, long i) {
        long h = (i + 1) * 0x9E3779B97F4A7C15L + worker * 0xC2B2AE3D27D4EB4FL;
        return (float) ((h >>> 40) - (1L << 23)) / (1 << 20); // about +-8, with full mantissas
    }

    /**
     * A state of 540 M values (2.16 GB, more than 2^31 bytes: a 180 M-parameter model's weights and moments) from
     * each of 2 workers, generated chunk by chunk inside the tasks, through the real transfer (shuffle by chunk id,
     * one reduce task per 16 MiB chunk, pulled chunk by chunk): every mean equals the plain element-wise
     * {@code (a + b) * (1f / 2)}.
     */
    @Test
    void meansOfAStateOverTwoGibibytesEqualThePlainSum() {
        ChunkLayout layout = ChunkLayout.of(180_000_001L, 360_000_002L, 16);
        assertTrue(layout.bytes() > (1L << 31), "more than 2^31 bytes: " + layout.bytes());
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        JavaPairRDD<Integer, ChunkedAveraging.Piece> pieces = sc.parallelize(List.of(0, 1), 2)
                .flatMapToPair(new GeneratedPieces(layout));
        Iterator<Tuple2<Integer, ChunkedAveraging.Piece>> means = ChunkedAveraging.means(pieces, layout.chunks(), 2);
        List<Integer> seen = new ArrayList<>();
        long values = 0;
        while (means.hasNext()) {
            Tuple2<Integer, ChunkedAveraging.Piece> m = means.next();
            seen.add(m._1());
            if (m._1() == ChunkedAveraging.STATS) {
                assertEquals(2, m._2().stats().workers());
                assertEquals(1.0, m._2().stats().losses()[0]);
                continue;
            }
            float[] got = m._2().values();
            long base = (layout.isMoments(m._1()) ? layout.params() : 0) + layout.offset(m._1());
            float[] plain = new float[layout.length(m._1())];
            for (int i = 0; i < plain.length; i++) {
                plain[i] = (generated(0, base + i) + generated(1, base + i)) * (1f / 2);
            }
            if (!Arrays.equals(plain, got)) {
                assertArrayEquals(plain, got, "chunk " + m._1());
            }
            values += got.length;
        }
        assertEquals(IntStream.range(-1, layout.chunks()).boxed().toList(), seen, "every chunk once, in order");
        assertEquals(layout.params() + layout.moments(), values);
    }
}
