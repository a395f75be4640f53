package dev.kiln.train.parallel;

import dev.kiln.common.spark.SparkStages;
import dev.kiln.model.GptConfig;
import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.BatchSourceFactory;
import dev.kiln.train.data.DataPosition;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Data-parallel training by parameter averaging, written with Spark primitives. Each round:
 * <ol>
 *   <li>the driver broadcasts the global weights (and the optimizer state, see {@link #run(Replica, int, boolean)})
 *       as chunks of at most {@code parallel.chunk-mb} ({@link ChunkLayout}), one broadcast per chunk;</li>
 *   <li>one Spark task per worker loads them into the replica its executor keeps for that worker (built once per
 *       run, so rounds pay no model construction), trains {@code average-every} local AdamW steps on its slice of
 *       every global minibatch, and emits its state as pieces keyed by chunk id plus its statistics;</li>
 *   <li>{@link ChunkedAveraging} sums each chunk over the workers in a reduce task per chunk and the driver pulls
 *       the means one chunk at a time, either taking the mean or, with the DiLoCo switch, applying the outer
 *       Nesterov step to the global weights.</li>
 * </ol>
 * No object is larger than a chunk (Java arrays and Spark's serialized results stop near 2 GB), the driver never
 * holds the workers' results at once, and the averaged result is bit for bit the earlier whole-state treeReduce's.
 * Why not dl4j-spark's {@code ParameterAveragingTrainingMaster}: it rebuilds the network in every round (0.3-0.6 s
 * per round in executor JVMs, measured), cannot keep per-replica optimizer state, and has no outer optimizer; at
 * the same averaging period this loop measured as fast or faster (see TrainingBenchmark).
 *
 * <p>A replica's cached copy is only an optimisation: every round overwrites its weights from the broadcast, and
 * its optimizer state too unless {@code average-optimizer-state = false} (then a replica keeps its own moments, and
 * one rebuilt on another executor starts from the averaged moments). The data position travels with each round.
 */
public final class SparkAveraging implements RoundRunner {
    private static final Logger LOG = LoggerFactory.getLogger(SparkAveraging.class);

    private final SparkSession spark;
    private final JavaSparkContext sc;
    private final EngineConfig cfg;
    private final ReplicaFactory replicas;
    private final String stage;
    private final BatchSourceFactory data;
    /** The replica factory and the data factory, sent to the executors once per run (not in every task's closure:
     *  a fine-tune's factory holds all its training examples). */
    private Broadcast<ReplicaFactory> replicasOnce;
    private Broadcast<BatchSourceFactory> dataOnce;
    private final String runId = UUID.randomUUID().toString();
    private DataPosition position = DataPosition.START;
    private float[] momentum;
    private int round;
    private double lastRoundSeconds;
    private double lastAveragingSeconds;
    private long lastRoundBytes;

    public SparkAveraging(SparkSession spark, EngineConfig cfg, GptConfig shape, ISchedule learningRate, BatchSourceFactory data) {
        this(spark, cfg, new ReplicaFactory.Pretrain(shape, cfg, learningRate), data, "pretrain");
    }

    /** Averaging of any replica {@code replicas} builds; {@code stage} names the rounds in Spark's UI. */
    public SparkAveraging(SparkSession spark, EngineConfig cfg, ReplicaFactory replicas, BatchSourceFactory data, String stage) {
        this.spark = spark;
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.cfg = cfg;
        this.replicas = replicas;
        this.stage = stage;
        this.data = data;
    }

    @Override
    public RoundStats run(Replica global, int steps) {
        return run(global, steps, true);
    }

    /**
     * One round. The weights always travel both ways; the optimizer state goes out when it is averaged or the
     * replicas are new (this runner's first round), and comes back when it is averaged or {@code withOptimizerState}
     * (a checkpoint follows: it must hold the replicas' mean moments).
     */
    @Override
    public RoundStats run(Replica global, int steps, boolean withOptimizerState) {
        long start = System.nanoTime();
        long step = global.step();
        int workers = cfg.parallel().workers();
        boolean averaged = cfg.parallel().averageOptimizerState();
        ChunkLayout out = layout(global, averaged || round == 0);
        ChunkLayout back = layout(global, averaged || withOptimizerState);
        List<Broadcast<float[]>> state = new ArrayList<>(out.chunks());
        for (int id = 0; id < out.chunks(); id++) {
            state.add(sc.broadcast(StateChunks.read(global, out, id)));
        }
        SparkStages.stage(spark, stage, "round " + round + ": steps " + step + "-" + (step + steps - 1) + " on " + workers + " workers");
        if (replicasOnce == null) {
            replicasOnce = sc.broadcast(replicas);
            dataOnce = sc.broadcast(data);
        }
        RoundTask task = new RoundTask(runId, replicasOnce, cfg, dataOnce, state, out, back, step, steps, position);
        JavaPairRDD<Integer, ChunkedAveraging.Piece> pieces = sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
                .mapPartitionsToPair(task);
        RoundStats stats = null;
        Iterator<Tuple2<Integer, ChunkedAveraging.Piece>> means = ChunkedAveraging.means(pieces, back.chunks(), workers);
        while (means.hasNext()) {
            Tuple2<Integer, ChunkedAveraging.Piece> mean = means.next();
            if (mean._1() == ChunkedAveraging.STATS) {
                stats = mean._2().stats();
                position = mean._2().position();
            } else {
                apply(global, back, mean._1(), mean._2().values());
            }
        }
        state.forEach(Broadcast::destroy);
        global.setStep(step + steps);
        round++;
        lastRoundSeconds = (System.nanoTime() - start) / 1e9;
        lastRoundBytes = out.bytes() + (long) workers * back.bytes() + back.bytes();
        // Everything in the round that is not the slowest worker's training: broadcast, task launch, result
        // transfer, reduce, outer step.
        lastAveragingSeconds = Math.max(0, lastRoundSeconds - stats.computeSeconds());
        logRound(out, back, workers);
        return stats;
    }

    private ChunkLayout layout(Replica global, boolean withMoments) {
        INDArray moments = global.model().getUpdater().getStateViewArray();
        return ChunkLayout.of(global.model().numParams(), withMoments && moments != null ? moments.length() : 0,
                cfg.parallel().chunkMegabytes());
    }

    /** Writes one mean chunk into the global replica: the mean itself, or (weights, nesterov) DiLoCo's outer step. */
    private void apply(Replica global, ChunkLayout layout, int id, float[] mean) {
        if (layout.isMoments(id) || cfg.parallel().outerOptimizer() != EngineConfig.OuterOptimizer.NESTEROV) {
            StateChunks.write(global, layout, id, mean);
            return;
        }
        if (momentum == null) {
            momentum = new float[Math.toIntExact(layout.params())];
        }
        int from = Math.toIntExact(layout.offset(id));
        float[] before = StateChunks.read(global, layout, id);
        float[] m = Arrays.copyOfRange(momentum, from, from + mean.length);
        Averaging.nesterovStep(before, mean, m, cfg.parallel().outerLearningRate(), cfg.parallel().outerMomentum());
        System.arraycopy(m, 0, momentum, from, m.length);
        StateChunks.write(global, layout, id, before);
    }

    private void logRound(ChunkLayout out, ChunkLayout back, int workers) {
        String line = String.format(Locale.ROOT, "round %d: %.2fs, of which averaging %.2fs; moved %.1f MB "
                        + "(broadcast %.1f MB in %d chunks, %d x %.1f MB from the workers and %.1f MB of means to the driver)",
                round, lastRoundSeconds, lastAveragingSeconds, lastRoundBytes / 1e6, out.bytes() / 1e6, out.chunks(),
                workers, back.bytes() / 1e6, back.bytes() / 1e6);
        if (round == 1) {
            LOG.info(line);
        } else {
            LOG.debug(line);
        }
    }

    /** Bytes the last round moved: the broadcast, the workers' pieces through the shuffle, the means to the driver. */
    public long lastRoundBytes() {
        return lastRoundBytes;
    }

    /** Wall time of the last round in the driver. */
    public double lastRoundSeconds() {
        return lastRoundSeconds;
    }

    /** Part of the last round spent outside the slowest worker's training steps. */
    public double lastAveragingSeconds() {
        return lastAveragingSeconds;
    }

    @Override
    public int maxRoundSteps() {
        return cfg.parallel().averageEvery();
    }

    @Override
    public DataPosition position() {
        return position;
    }

    @Override
    public float[] outerState() {
        return momentum;
    }

    @Override
    public void restore(DataPosition position, float[] outerState) {
        this.position = position;
        this.momentum = outerState;
    }

    @Override
    public void close() {
        WorkerCache.evictRun(runId); // the driver's own JVM (local mode); executors evict when the next run starts
        if (replicasOnce != null) {
            replicasOnce.destroy();
            dataOnce.destroy();
        }
    }

    /** The executor side of a round: load the broadcast chunks, train, emit the state as pieces by chunk id. */
    static final class RoundTask implements PairFlatMapFunction<Iterator<Integer>, Integer, ChunkedAveraging.Piece> {
        private final String runId;
        private final Broadcast<ReplicaFactory> replicas;
        private final EngineConfig cfg;
        private final Broadcast<BatchSourceFactory> data;
        private final List<Broadcast<float[]>> state;
        private final ChunkLayout out;
        private final ChunkLayout back;
        private final long step;
        private final int steps;
        private final DataPosition position;

        RoundTask(String runId, Broadcast<ReplicaFactory> replicas, EngineConfig cfg, Broadcast<BatchSourceFactory> data,
                  List<Broadcast<float[]>> state,
                  ChunkLayout out, ChunkLayout back, long step, int steps, DataPosition position) {
            this.runId = runId;
            this.replicas = replicas;
            this.cfg = cfg;
            this.data = data;
            this.state = state;
            this.out = out;
            this.back = back;
            this.step = step;
            this.steps = steps;
            this.position = position;
        }

        @Override
        public Iterator<Tuple2<Integer, ChunkedAveraging.Piece>> call(Iterator<Integer> workerIds) {
            if (!workerIds.hasNext()) {
                return Collections.emptyIterator();
            }
            int worker = workerIds.next();
            if (cfg.parallel().bindGpu()) {
                GpuBinding.bindToAssignedGpu();
            }
            WorkerCache.Entry e = WorkerCache.get(runId, worker, () -> new WorkerCache.Entry(
                    replicas.value().create(), data.value().open(worker, cfg.parallel().workers(), cfg.batchSize())));
            Replica replica = e.replica;
            boolean fresh = e.rounds == 0;
            for (int id = 0; id < out.chunks(); id++) {
                if (!out.isMoments(id) || fresh || cfg.parallel().averageOptimizerState()) {
                    StateChunks.write(replica, out, id, state.get(id).value());
                }
            }
            if (fresh && out.moments() == 0) {
                LOG.warn("worker {}: a replica rebuilt after the first round starts from zero AdamW moments "
                        + "(average-optimizer-state = false sends the moments only in a run's first round)", worker);
            }
            replica.setStep(step);
            if (!e.source.position().equals(position)) {
                e.source.seek(position);
            }
            RoundStats stats = replica.train(e.source, steps, cfg.parallel().prefetch());
            e.rounds++;
            return new PieceIterator(worker, replica, back, ChunkedAveraging.Piece.stats(worker, stats, e.source.position()));
        }
    }

    /** The stats piece, then each chunk of the replica's state, copied off-heap only when the shuffle asks for it. */
    private static final class PieceIterator implements Iterator<Tuple2<Integer, ChunkedAveraging.Piece>> {
        private final int worker;
        private final Replica replica;
        private final ChunkLayout layout;
        private final ChunkedAveraging.Piece stats;
        private int next = ChunkedAveraging.STATS;

        PieceIterator(int worker, Replica replica, ChunkLayout layout, ChunkedAveraging.Piece stats) {
            this.worker = worker;
            this.replica = replica;
            this.layout = layout;
            this.stats = stats;
        }

        @Override
        public boolean hasNext() {
            return next < layout.chunks();
        }

        @Override
        public Tuple2<Integer, ChunkedAveraging.Piece> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int id = next++;
            return new Tuple2<>(id, id == ChunkedAveraging.STATS ? stats
                    : ChunkedAveraging.Piece.chunk(worker, StateChunks.read(replica, layout, id)));
        }
    }

    /** Replicas and their data streams kept in an executor JVM between rounds, per (run, worker). */
    static final class WorkerCache {
        static final class Entry {
            final Replica replica;
            final BatchSource source;
            int rounds;

            Entry(Replica replica, BatchSource source) {
                this.replica = replica;
                this.source = source;
            }
        }

        private static final Map<String, Entry> ENTRIES = new ConcurrentHashMap<>();

        static Entry get(String runId, int worker, Supplier<Entry> create) {
            // A new run frees the replicas of earlier runs in this JVM.
            ENTRIES.keySet().removeIf(k -> !k.startsWith(runId + "/") && closeQuietly(k));
            return ENTRIES.computeIfAbsent(runId + "/" + worker, k -> create.get());
        }

        static void evictRun(String runId) {
            ENTRIES.keySet().removeIf(k -> k.startsWith(runId + "/") && closeQuietly(k));
        }

        private static boolean closeQuietly(String key) {
            Entry e = ENTRIES.get(key);
            if (e != null) {
                e.source.close();
            }
            return true;
        }
    }
}
