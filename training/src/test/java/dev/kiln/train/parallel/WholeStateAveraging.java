package dev.kiln.train.parallel;

import dev.kiln.train.data.BatchSourceFactory;
import dev.kiln.train.data.DataPosition;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * The averaging round as Kiln did it before chunks (one broadcast of the whole state, whole-state results summed by
 * {@code treeReduce}), kept as the reference the chunked {@link SparkAveraging} must match bit for bit.
 */
final class WholeStateAveraging implements RoundRunner {
    private final JavaSparkContext sc;
    private final EngineConfig cfg;
    private final ReplicaFactory replicas;
    private final BatchSourceFactory data;
    private final String runId = UUID.randomUUID().toString();
    private DataPosition position = DataPosition.START;
    private float[] momentum;

    WholeStateAveraging(JavaSparkContext sc, EngineConfig cfg, ReplicaFactory replicas, BatchSourceFactory data) {
        this.sc = sc;
        this.cfg = cfg;
        this.replicas = replicas;
        this.data = data;
    }

    record GlobalState(float[] params, float[] optimizerState) implements Serializable {
    }

    record WorkerResult(float[] params, float[] optimizerState, RoundStats stats, DataPosition position) implements Serializable {
        WorkerResult plus(WorkerResult o) {
            return new WorkerResult(Averaging.addInto(params, o.params), Averaging.addInto(optimizerState, o.optimizerState),
                    stats.plus(o.stats), position);
        }
    }

    @Override
    public RoundStats run(Replica global, int steps) {
        long step = global.step();
        int workers = cfg.parallel().workers();
        float[] before = global.params();
        Broadcast<GlobalState> state = sc.broadcast(new GlobalState(before, global.optimizerState()));
        Task task = new Task(runId, replicas, cfg, data, state, step, steps, position);
        WorkerResult sum = sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
                .mapPartitions(task).treeReduce(WorkerResult::plus);
        state.destroy();
        float[] mean = Averaging.divide(sum.params, workers);
        if (cfg.parallel().outerOptimizer() == EngineConfig.OuterOptimizer.NESTEROV) {
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
        return sum.stats;
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
        SparkAveraging.WorkerCache.evictRun(runId);
    }

    record Task(String runId, ReplicaFactory replicas, EngineConfig cfg, BatchSourceFactory data, Broadcast<GlobalState> state,
                long step, int steps, DataPosition position) implements FlatMapFunction<Iterator<Integer>, WorkerResult> {
        @Override
        public Iterator<WorkerResult> call(Iterator<Integer> workerIds) {
            int worker = workerIds.next();
            GlobalState g = state.value();
            SparkAveraging.WorkerCache.Entry e = SparkAveraging.WorkerCache.get(runId, worker, () -> new SparkAveraging.WorkerCache.Entry(
                    replicas.create(), data.open(worker, cfg.parallel().workers(), cfg.batchSize())));
            e.replica.setParams(g.params());
            if (e.rounds == 0 || cfg.parallel().averageOptimizerState()) {
                e.replica.setOptimizerState(g.optimizerState());
            }
            e.replica.setStep(step);
            if (!e.source.position().equals(position)) {
                e.source.seek(position);
            }
            RoundStats stats = e.replica.train(e.source, steps, cfg.parallel().prefetch());
            e.rounds++;
            return List.of(new WorkerResult(e.replica.params(), e.replica.optimizerState(), stats, e.source.position())).iterator();
        }
    }
}
