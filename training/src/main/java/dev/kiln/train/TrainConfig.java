package dev.kiln.train;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;
import dev.kiln.train.parallel.EngineConfig;

import java.io.Serializable;

/**
 * The typed, validated {@code kiln.train} section (see the training module's reference.conf for every key): the
 * run's data, model shape, length, validation and checkpoints, and the engine's shared settings ({@link EngineConfig}).
 */
public record TrainConfig(String shards, String output, ModelShape model, int steps, EngineConfig engine,
                          int validationEvery, int validationBatches, int checkpointEvery, int checkpointKeep,
                          ResumePolicy.Mode resume, String initFrom)
        implements Serializable {

    public static final String SECTION = "kiln.train";

    /**
     * Sizes from the config; vocabulary size and context length come from the shards. {@code tieEmbeddings}: the LM
     * head is the token embedding's matrix, without bias (GPT-2's head); {@code headBias}: an untied head adds a bias.
     */
    public record ModelShape(int layers, int dModel, int heads, int mlpRatio, boolean tieEmbeddings, boolean headBias)
            implements Serializable {
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
        EngineConfig engine = EngineConfig.from(s);
        int warmup = engine.optimizer().warmupSteps();
        s.section("optimizer").require(warmup <= steps, "warmup-steps",
                "expected an integer in [0, " + steps + "] (at most steps), got " + warmup);
        Settings v = s.section("validation");
        Settings c = s.section("checkpoint");
        return new TrainConfig(s.nonEmpty("shards"), s.nonEmpty("output"), model, steps, engine,
                v.nonNegativeInt("every"), v.positiveInt("batches"),
                c.nonNegativeInt("every"), c.positiveInt("keep"), s.enumValue("resume", ResumePolicy.Mode.class),
                s.optionalString("init-from"));
    }

    /**
     * The run's learning rate per step: linear warm-up to {@code learning-rate}, cosine decay to
     * {@code min-learning-rate} at {@code steps}. The one definition: the optimizer and the logs use it.
     */
    public WarmupCosineSchedule learningRateSchedule() {
        EngineConfig.Optimizer o = engine.optimizer();
        return new WarmupCosineSchedule(o.learningRate(), o.minLearningRate(), o.warmupSteps(), steps);
    }

    public int batchSize() {
        return engine.batchSize();
    }

    public long seed() {
        return engine.seed();
    }

    public int nd4jThreads() {
        return engine.nd4jThreads();
    }

    public EngineConfig.Optimizer optimizer() {
        return engine.optimizer();
    }

    public EngineConfig.Parallel parallel() {
        return engine.parallel();
    }

    public boolean recomputeActivations() {
        return engine.recomputeActivations();
    }

    public int logEvery() {
        return engine.logEvery();
    }

    /** Sequences consumed per optimizer step across all workers. */
    public int globalBatch() {
        return engine.globalBatch();
    }
}
