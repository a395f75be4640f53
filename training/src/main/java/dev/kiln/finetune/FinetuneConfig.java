package dev.kiln.finetune;

import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Settings;
import dev.kiln.model.ClassifierHead;
import dev.kiln.train.ResumePolicy;
import dev.kiln.train.TrainConfig;

import java.io.Serializable;

/** The typed, validated {@code kiln.finetune} section (see the training module's reference.conf for every key). */
public record FinetuneConfig(Task task, String checkpoint, String tokenizer, String documents, String output,
                             String labelColumn, String labelMetadataKey, String textColumn, Truncation truncation, int windows,
                             ClassifierHead.Pooling pooling, double validationFraction, double testFraction, int epochs,
                             int batchSize, long seed, int nd4jThreads, Optimizer optimizer, int freezeBlocks,
                             boolean freezeEmbeddings, ClassWeights classWeights, int patience, Parallel parallel,
                             int logEvery, int checkpointKeep, Causal causal) implements Serializable {

    public static final String SECTION = "kiln.finetune";

    /** {@code classify}: a classification head on labelled documents; {@code causal}: more language-model training. */
    public enum Task { CLASSIFY, CAUSAL }

    /**
     * Which tokens a document longer than its windows (windows x T tokens) keeps: its first, its last, or half of
     * each.
     */
    public enum Truncation { HEAD, TAIL, HEAD_TAIL }

    public enum Decay { LINEAR, COSINE }

    /** {@code none}: every class weighs 1; {@code balanced}: n / (K x n_k) from the training split's counts. */
    public enum ClassWeights { NONE, BALANCED }

    public record Optimizer(double learningRate, int warmupSteps, Decay decay, double minLearningRate, double beta1,
                            double beta2, double epsilon, double weightDecay, double gradClip) implements Serializable {
    }

    public record Parallel(int workers, int averageEvery, boolean averageOptimizerState, int prefetch, boolean bindGpu,
                           int chunkMegabytes)
            implements Serializable {
    }

    /**
     * The {@code causal} subsection: continued next-token training on {@code shards} (made with the parent's
     * tokenizer), validated on them and on {@code originalShards} (null: the parent's own training shards).
     */
    public record Causal(String shards, String originalShards, int steps, double learningRate, int warmupSteps,
                         double minLearningRate, int validationEvery, int validationBatches, int checkpointEvery)
            implements Serializable {
    }

    public static FinetuneConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        Task task = s.enumValue("task", Task.class);
        String checkpoint = s.optionalString("checkpoint");
        if (checkpoint == null) {
            throw new InvalidConfigException(s.key("checkpoint"), null,
                    "must name a `kiln pretrain` checkpoint (a step-NNNNNNNN folder, a checkpoints/ folder or a run folder)");
        }
        Settings label = s.section("label");
        String column = label.optionalString("column");
        String metadataKey = label.optionalString("metadata-key");
        label.require((column == null) != (metadataKey == null), "column",
                "set exactly one of " + label.key("column") + " and " + label.key("metadata-key"));
        Settings sp = s.section("split");
        double validation = sp.doubleIn("validation-fraction", 0, 0.9);
        double test = sp.doubleIn("test-fraction", 0, 0.9);
        sp.require(validation + test < 1, "test-fraction", "validation-fraction + test-fraction must be < 1, got "
                + (validation + test));
        Settings o = s.section("optimizer");
        Optimizer optimizer = new Optimizer(o.doubleIn("learning-rate", 0, 10), o.nonNegativeInt("warmup-steps"),
                o.enumValue("decay", Decay.class), o.doubleIn("min-learning-rate", 0, 10), o.doubleIn("beta1", 0, 0.999999),
                o.doubleIn("beta2", 0, 0.999999999), o.doubleIn("epsilon", 0, 1), o.doubleIn("weight-decay", 0, 10),
                o.doubleIn("grad-clip", 0, 1e9));
        o.require(optimizer.minLearningRate() <= optimizer.learningRate(), "min-learning-rate",
                "must not exceed learning-rate (" + optimizer.learningRate() + ")");
        Settings f = s.section("freeze");
        Settings c = s.section("causal");
        Causal causal = new Causal(c.nonEmpty("shards"), c.optionalString("original-shards"), c.positiveInt("steps"),
                c.doubleIn("learning-rate", 0, 10), c.nonNegativeInt("warmup-steps"), c.doubleIn("min-learning-rate", 0, 10),
                c.nonNegativeInt("validation-every"), c.positiveInt("validation-batches"), c.nonNegativeInt("checkpoint-every"));
        c.require(causal.minLearningRate() <= causal.learningRate(), "min-learning-rate",
                "must not exceed learning-rate (" + causal.learningRate() + ")");
        Settings p = s.section("parallel");
        Parallel parallel = new Parallel(p.intIn("workers", 1, 4096), p.positiveInt("average-every"),
                p.bool("average-optimizer-state"), p.intIn("prefetch", 0, 1024), p.bool("bind-gpu"),
                p.intIn("chunk-mb", 1, 512));
        return new FinetuneConfig(task, checkpoint, s.optionalString("tokenizer"), s.nonEmpty("documents"),
                s.nonEmpty("output"), column, metadataKey, s.nonEmpty("text-column"),
                s.enumValue("truncation", Truncation.class), s.intIn("windows", 1, 64),
                s.enumValue("pooling", ClassifierHead.Pooling.class),
                validation, test, s.intIn("epochs", 1, 100_000), s.positiveInt("batch-size"),
                s.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE), s.intIn("nd4j-threads", 1, 1024), optimizer,
                f.intIn("blocks", 0, 256), f.bool("embeddings"), s.enumValue("class-weights", ClassWeights.class),
                s.section("early-stopping").nonNegativeInt("patience"), parallel, s.positiveInt("log-every"),
                s.positiveInt("keep-checkpoints"), causal);
    }

    /**
     * The engine's settings for {@code task = causal}: the parent's {@code shape}, this section's {@code causal}
     * schedule (cosine decay, as pre-training) and the shared optimizer, parallel, log and keep settings.
     */
    public TrainConfig causalEngine(TrainConfig.ModelShape shape) {
        Causal c = causal;
        return new TrainConfig(c.shards(), output, shape, c.steps(), batchSize, seed, nd4jThreads,
                new TrainConfig.Optimizer(c.learningRate(), Math.min(c.warmupSteps(), c.steps()), c.minLearningRate(),
                        optimizer.beta1(), optimizer.beta2(), optimizer.epsilon(), optimizer.weightDecay(), optimizer.gradClip()),
                new TrainConfig.Parallel(parallel.workers(), parallel.averageEvery(), parallel.averageOptimizerState(),
                        parallel.prefetch(), TrainConfig.OuterOptimizer.AVERAGE, 0.7, 0.9, parallel.bindGpu(),
                        parallel.chunkMegabytes()),
                logEvery, c.validationEvery(), c.validationBatches(), c.checkpointEvery(), checkpointKeep,
                ResumePolicy.Mode.NEVER, null, false);
    }

    /** Where the label comes from, for messages: {@code column "x"} or {@code metadata key "label"}. */
    public String labelSource() {
        return labelColumn != null ? "column \"" + labelColumn + "\"" : "metadata key \"" + labelMetadataKey + "\"";
    }

    /**
     * The settings of the shared training engine (replicas, rounds, averaging, clipping) for a run of
     * {@code steps} steps; the model's shape comes from the parent checkpoint, not from here.
     */
    public TrainConfig engine(int steps) {
        return new TrainConfig(documents, output, new TrainConfig.ModelShape(1, 1, 1, 1, false, false), steps, batchSize, seed,
                nd4jThreads, new TrainConfig.Optimizer(optimizer.learningRate(), Math.min(optimizer.warmupSteps(), steps),
                optimizer.minLearningRate(), optimizer.beta1(), optimizer.beta2(), optimizer.epsilon(),
                optimizer.weightDecay(), optimizer.gradClip()),
                new TrainConfig.Parallel(parallel.workers(), parallel.averageEvery(), parallel.averageOptimizerState(),
                        parallel.prefetch(), TrainConfig.OuterOptimizer.AVERAGE, 0.7, 0.9, parallel.bindGpu(),
                        parallel.chunkMegabytes()),
                // Fine-tuning decides on resuming itself (--resume, per epoch): the engine never resumes on its own.
                logEvery, 0, 1, 0, checkpointKeep, ResumePolicy.Mode.NEVER, null, false);
    }
}
