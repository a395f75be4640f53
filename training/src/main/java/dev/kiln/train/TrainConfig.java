package dev.kiln.train;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;

import java.io.Serializable;

/** The typed, validated {@code kiln.train} section (see the training module's reference.conf for every key). */
public record TrainConfig(String shards, String output, ModelShape model, int steps, int batchSize, long seed,
                          int nd4jThreads, Optimizer optimizer, Parallel parallel, int logEvery,
                          int validationEvery, int validationBatches, int checkpointEvery, int checkpointKeep,
                          ResumePolicy.Mode resume, String initFrom, boolean recomputeActivations)
        implements Serializable {

    public static final String SECTION = "kiln.train";

    /**
     * Sizes from the config; vocabulary size and context length come from the shards. {@code tieEmbeddings}: the LM
     * head is the token embedding's matrix, without bias (GPT-2's head); {@code headBias}: an untied head adds a bias.
     */
    public record ModelShape(int layers, int dModel, int heads, int mlpRatio, boolean tieEmbeddings, boolean headBias)
            implements Serializable {
    }

    public record Optimizer(double learningRate, int warmupSteps, double minLearningRate, double beta1, double beta2,
                            double epsilon, double weightDecay, double gradClip) implements Serializable {
    }

    public enum OuterOptimizer { AVERAGE, NESTEROV }

    public record Parallel(int workers, int averageEvery, boolean averageOptimizerState, int prefetch,
                           OuterOptimizer outerOptimizer, double outerLearningRate, double outerMomentum,
                           boolean bindGpu, int chunkMegabytes) implements Serializable {
    }

    public static TrainConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        Settings m = s.section("model");
        ModelShape model = new ModelShape(m.intIn("layers", 1, 256), m.intIn("d-model", 1, 65536),
                m.intIn("heads", 1, 1024), m.intIn("mlp-ratio", 1, 64), m.bool("tie-embeddings"), m.bool("head-bias"));
        m.require(!(model.tieEmbeddings() && model.headBias()), "head-bias",
                "must be false with tie-embeddings = true: a tied head is the token embedding's matrix, without a bias");
        m.require(model.dModel() % model.heads() == 0, "d-model",
                "must be a multiple of heads (" + model.heads() + "), got " + model.dModel());
        int steps = s.positiveInt("steps");
        Settings o = s.section("optimizer");
        Optimizer optimizer = new Optimizer(o.doubleIn("learning-rate", 0, 10), o.intIn("warmup-steps", 0, steps),
                o.doubleIn("min-learning-rate", 0, 10), o.doubleIn("beta1", 0, 0.999999), o.doubleIn("beta2", 0, 0.999999999),
                o.doubleIn("epsilon", 0, 1), o.doubleIn("weight-decay", 0, 10), o.doubleIn("grad-clip", 0, 1e9));
        o.require(optimizer.minLearningRate() <= optimizer.learningRate(), "min-learning-rate",
                "must not exceed learning-rate (" + optimizer.learningRate() + ")");
        Settings p = s.section("parallel");
        Parallel parallel = new Parallel(p.intIn("workers", 1, 4096), p.positiveInt("average-every"),
                p.bool("average-optimizer-state"), p.intIn("prefetch", 0, 1024),
                p.enumValue("outer-optimizer", OuterOptimizer.class), p.doubleIn("outer-learning-rate", 0, 10),
                p.doubleIn("outer-momentum", 0, 0.999999), p.bool("bind-gpu"), p.intIn("chunk-mb", 1, 512));
        Settings v = s.section("validation");
        Settings c = s.section("checkpoint");
        return new TrainConfig(s.nonEmpty("shards"), s.nonEmpty("output"), model, steps, s.positiveInt("batch-size"),
                s.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE), s.intIn("nd4j-threads", 1, 1024), optimizer, parallel,
                s.positiveInt("log-every"), v.nonNegativeInt("every"), v.positiveInt("batches"),
                c.nonNegativeInt("every"), c.positiveInt("keep"), s.enumValue("resume", ResumePolicy.Mode.class),
                s.optionalString("init-from"), s.bool("recompute-activations"));
    }

    /**
     * The run's learning rate per step: linear warm-up to {@code learning-rate}, cosine decay to
     * {@code min-learning-rate} at {@code steps}. The one definition: the optimizer and the logs use it.
     */
    public WarmupCosineSchedule learningRateSchedule() {
        return new WarmupCosineSchedule(optimizer.learningRate(), optimizer.minLearningRate(), optimizer.warmupSteps(), steps);
    }

    /** Sequences consumed per optimizer step across all workers. */
    public int globalBatch() {
        return batchSize * parallel.workers();
    }
}
