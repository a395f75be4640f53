package dev.kiln.train.parallel;

import dev.kiln.common.config.Settings;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;

import java.io.Serializable;

/**
 * The training engine's settings, shared by pre-training ({@code kiln.train}) and fine-tuning ({@code kiln.finetune}):
 * the same keys under each section, parsed by {@link #from} alone, defaults in the training module's reference.conf.
 * The learning-rate schedule is the stage's (its length and decay are the stage's business) and is passed beside it.
 *
 * @param batchSize   sequences (rows) per worker per step
 * @param seed        initialisation and data order
 * @param nd4jThreads ND4J/OpenMP threads per training JVM or Spark task
 * @param logEvery    steps between two training-loss records
 * @param recomputeActivations activation checkpointing in the replicas' blocks (one block's intermediates at a time)
 */
public record EngineConfig(int batchSize, long seed, int nd4jThreads, Optimizer optimizer, Parallel parallel, int logEvery,
                           boolean recomputeActivations)
        implements Serializable {

    /** AdamW and global-norm clipping; {@code warmupSteps} and the learning rates feed the stage's schedule. */
    public record Optimizer(double learningRate, int warmupSteps, double minLearningRate, double beta1, double beta2,
                            double epsilon, double weightDecay, double gradClip) implements Serializable {
    }

    public enum OuterOptimizer { AVERAGE, NESTEROV }

    public record Parallel(int workers, int averageEvery, boolean averageOptimizerState, int prefetch,
                           OuterOptimizer outerOptimizer, double outerLearningRate, double outerMomentum,
                           boolean bindGpu, int chunkMegabytes) implements Serializable {
    }

    /**
     * The engine's keys of a stage's section {@code s}: batch-size, seed, nd4j-threads, log-every,
     * recompute-activations, optimizer.*, parallel.*.
     */
    public static EngineConfig from(Settings s) {
        Settings o = s.section("optimizer");
        Optimizer optimizer = new Optimizer(o.doubleIn("learning-rate", 0, 10), o.nonNegativeInt("warmup-steps"),
                o.doubleIn("min-learning-rate", 0, 10), o.doubleIn("beta1", 0, 0.999999), o.doubleIn("beta2", 0, 0.999999999),
                o.doubleIn("epsilon", 0, 1), o.doubleIn("weight-decay", 0, 10), o.doubleIn("grad-clip", 0, 1e9));
        o.require(optimizer.minLearningRate() <= optimizer.learningRate(), "min-learning-rate",
                "must not exceed learning-rate (" + optimizer.learningRate() + ")");
        Settings p = s.section("parallel");
        Parallel parallel = new Parallel(p.intIn("workers", 1, 4096), p.positiveInt("average-every"),
                p.bool("average-optimizer-state"), p.intIn("prefetch", 0, 1024),
                p.enumValue("outer-optimizer", OuterOptimizer.class), p.doubleIn("outer-learning-rate", 0, 10),
                p.doubleIn("outer-momentum", 0, 0.999999), p.bool("bind-gpu"), p.intIn("chunk-mb", 1, 512));
        return new EngineConfig(s.positiveInt("batch-size"), s.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE),
                s.intIn("nd4j-threads", 1, 1024), optimizer, parallel, s.positiveInt("log-every"), s.bool("recompute-activations"));
    }

    /** The same settings with another optimizer (causal fine-tuning's own learning rates). */
    public EngineConfig withOptimizer(Optimizer other) {
        return new EngineConfig(batchSize, seed, nd4jThreads, other, parallel, logEvery, recomputeActivations);
    }

    /** AdamW's Adam part with this optimizer's betas and epsilon on {@code schedule} (weight decay is set per layer). */
    public Adam adam(ISchedule schedule) {
        return Adam.builder().learningRateSchedule(schedule)
                .beta1(optimizer.beta1()).beta2(optimizer.beta2()).epsilon(optimizer.epsilon()).build();
    }

    /** Sequences consumed per optimizer step across all workers. */
    public int globalBatch() {
        return batchSize * parallel.workers();
    }
}
