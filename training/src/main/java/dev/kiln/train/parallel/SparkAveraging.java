package dev.kiln.train.parallel;

import dev.kiln.common.spark.SparkStages;
import dev.kiln.model.GptConfig;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.BatchSourceFactory;
import dev.kiln.train.data.DataPosition;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Data-parallel training by parameter averaging, written with Spark primitives. Each round:
 * <ol>
 *   <li>the driver broadcasts the global weights and optimizer state;</li>
 *   <li>one Spark task per worker loads them into the replica its executor keeps for that worker (built once per
 *       run, so rounds pay no model construction), trains {@code average-every} local AdamW steps on its slice of
 *       every global minibatch, and returns weights, optimizer state and statistics;</li>
 *   <li>{@code treeReduce} sums them; the driver divides by the workers and either takes the mean or, with the
 *       DiLoCo switch, applies the outer Nesterov step to the global weights.</li>
 * </ol>
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
    private final TrainConfig cfg;
    private final ReplicaFactory replicas;
    private final String stage;
    private final BatchSourceFactory data;
    private final String runId = UUID.randomUUID().toString();
    private DataPosition position = DataPosition.START;
    private float[] momentum;
    private int round;
    private double lastRoundSeconds;
    private double lastAveragingSeconds;

    public SparkAveraging(SparkSession spark, TrainConfig cfg, GptConfig shape, BatchSourceFactory data) {
        this(spark, cfg, new ReplicaFactory.Pretrain(shape, cfg), data, "pretrain");
    }

    /** Averaging of any replica {@code replicas} builds; {@code stage} names the rounds in Spark's UI. */
    public SparkAveraging(SparkSession spark, TrainConfig cfg, ReplicaFactory replicas, BatchSourceFactory data, String stage) {
        this.spark = spark;
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.cfg = cfg;
        this.replicas = replicas;
        this.stage = stage;
        this.data = data;
    }

    /** The state the driver sends each round. */
    record GlobalState(float[] params, float[] optimizerState) implements Serializable {
    }

    /** What the workers send back; sums under {@link #plus}. */
    record WorkerResult(float[] params, float[] optimizerState, RoundStats stats, DataPosition position)
            implements Serializable {
        WorkerResult plus(WorkerResult o) {
            return new WorkerResult(Averaging.addInto(params, o.params), Averaging.addInto(optimizerState, o.optimizerState),
                    stats.plus(o.stats), position);
        }
    }

    @Override
    public RoundStats run(Replica global, int steps) {
        long start = System.nanoTime();
        long step = global.step();
        int workers = cfg.parallel().workers();
        float[] before = global.params();
        Broadcast<GlobalState> state = sc.broadcast(new GlobalState(before, global.optimizerState()));
        SparkStages.stage(spark, stage, "round " + round + ": steps " + step + "-" + (step + steps - 1) + " on " + workers + " workers");
        RoundTask task = new RoundTask(runId, replicas, cfg, data, state, step, steps, position);
        WorkerResult sum = sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
                .mapPartitions(task)
                .treeReduce(WorkerResult::plus);
        long reduced = System.nanoTime();
        state.destroy();

        float[] mean = Averaging.divide(sum.params, workers);
        if (cfg.parallel().outerOptimizer() == TrainConfig.OuterOptimizer.NESTEROV) {
            if (momentum == null) {
                momentum = new float[mean.length];
            }
            Averaging.nesterovStep(before, mean, momentum, cfg.parallel().outerLearningRate(), cfg.parallel().outerMomentum());
            global.setParams(before);
        } else {
            global.setParams(mean);
        }
        global.setOptimizerState(Averaging.divide(sum.optimizerState, workers));
        global.setStep(step + steps);
        position = sum.position;
        round++;
        long end = System.nanoTime();
        lastRoundSeconds = (end - start) / 1e9;
        // Everything in the round that is not the slowest worker's training: broadcast, task launch, result
        // transfer, reduce, outer step.
        lastAveragingSeconds = Math.max(0, lastRoundSeconds - sum.stats.computeSeconds());
        LOG.debug("round {}: {}s, of which averaging {}s (reduce done after {}s)", round, lastRoundSeconds,
                lastAveragingSeconds, (reduced - start) / 1e9);
        RoundStats s = sum.stats;
        return new RoundStats(s.workers(), s.steps(), s.tokens(), s.losses(), s.gradNormSum(), s.computeSeconds());
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
    }

    /** The executor side of a round. */
    static final class RoundTask implements FlatMapFunction<Iterator<Integer>, WorkerResult> {
        private final String runId;
        private final ReplicaFactory replicas;
        private final TrainConfig cfg;
        private final BatchSourceFactory data;
        private final Broadcast<GlobalState> state;
        private final long step;
        private final int steps;
        private final DataPosition position;

        RoundTask(String runId, ReplicaFactory replicas, TrainConfig cfg, BatchSourceFactory data, Broadcast<GlobalState> state,
                  long step, int steps, DataPosition position) {
            this.runId = runId;
            this.replicas = replicas;
            this.cfg = cfg;
            this.data = data;
            this.state = state;
            this.step = step;
            this.steps = steps;
            this.position = position;
        }

        @Override
        public Iterator<WorkerResult> call(Iterator<Integer> workerIds) {
            if (!workerIds.hasNext()) {
                return List.<WorkerResult>of().iterator();
            }
            int worker = workerIds.next();
            if (cfg.parallel().bindGpu()) {
                GpuBinding.bindToAssignedGpu();
            }
            GlobalState g = state.value();
            WorkerCache.Entry e = WorkerCache.get(runId, worker, () -> new WorkerCache.Entry(
                    replicas.create(), data.open(worker, cfg.parallel().workers(), cfg.batchSize())));
            Replica replica = e.replica;
            replica.setParams(g.params());
            if (e.rounds == 0 || cfg.parallel().averageOptimizerState()) {
                replica.setOptimizerState(g.optimizerState());
            }
            replica.setStep(step);
            if (!e.source.position().equals(position)) {
                e.source.seek(position);
            }
            RoundStats stats = replica.train(e.source, steps, cfg.parallel().prefetch());
            e.rounds++;
            return List.of(new WorkerResult(replica.params(), replica.optimizerState(), stats, e.source.position())).iterator();
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

        static Entry get(String runId, int worker, java.util.function.Supplier<Entry> create) {
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
