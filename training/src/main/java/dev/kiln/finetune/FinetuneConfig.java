package dev.kiln.finetune;

import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Settings;
import dev.kiln.model.ClassifierHead;
import dev.kiln.train.ResumePolicy;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.parallel.EngineConfig;

import java.io.Serializable;

/** The typed, validated {@code kiln.finetune} section (see the training module's reference.conf for every key). */
public record FinetuneConfig(Task task, String checkpoint, String tokenizer, String documents, String output,
                             String labelColumn, String labelMetadataKey, String textColumn, Truncation truncation, int windows,
                             ClassifierHead.Pooling pooling, double validationFraction, double testFraction, int epochs,
                             EngineConfig engine, Decay decay, int freezeBlocks, boolean freezeEmbeddings,
                             ClassWeights classWeights, int patience, int checkpointKeep, Causal causal) implements Serializable {

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
        EngineConfig engine = EngineConfig.from(s);
        // Classify checkpoints keep no outer momentum: only plain averaging resumes exactly.
        s.section("parallel").require(task == Task.CAUSAL
                        || engine.parallel().outerOptimizer() == EngineConfig.OuterOptimizer.AVERAGE, "outer-optimizer",
                "must be average for task = classify (nesterov is for task = causal and pre-training)");
        Settings f = s.section("freeze");
        Settings c = s.section("causal");
        Causal causal = new Causal(c.nonEmpty("shards"), c.optionalString("original-shards"), c.positiveInt("steps"),
                c.doubleIn("learning-rate", 0, 10), c.nonNegativeInt("warmup-steps"), c.doubleIn("min-learning-rate", 0, 10),
                c.nonNegativeInt("validation-every"), c.positiveInt("validation-batches"), c.nonNegativeInt("checkpoint-every"));
        c.require(causal.minLearningRate() <= causal.learningRate(), "min-learning-rate",
                "must not exceed learning-rate (" + causal.learningRate() + ")");
        return new FinetuneConfig(task, checkpoint, s.optionalString("tokenizer"), s.nonEmpty("documents"),
                s.nonEmpty("output"), column, metadataKey, s.nonEmpty("text-column"),
                s.enumValue("truncation", Truncation.class), s.intIn("windows", 1, 64),
                s.enumValue("pooling", ClassifierHead.Pooling.class),
                validation, test, s.intIn("epochs", 1, 100_000), engine, s.section("optimizer").enumValue("decay", Decay.class),
                f.intIn("blocks", 0, 256), f.bool("embeddings"), s.enumValue("class-weights", ClassWeights.class),
                s.section("early-stopping").nonNegativeInt("patience"), s.positiveInt("keep-checkpoints"), causal);
    }

    /**
     * The pre-training run of {@code task = causal}: the parent's {@code shape}, this section's {@code causal}
     * schedule (cosine decay, as pre-training) with the shared engine settings; the stage decides on resuming itself.
     */
    public TrainConfig causalTraining(TrainConfig.ModelShape shape) {
        Causal c = causal;
        EngineConfig.Optimizer o = engine.optimizer();
        EngineConfig causalEngine = engine.withOptimizer(new EngineConfig.Optimizer(c.learningRate(),
                Math.min(c.warmupSteps(), c.steps()), c.minLearningRate(), o.beta1(), o.beta2(), o.epsilon(), o.weightDecay(),
                o.gradClip()));
        return new TrainConfig(c.shards(), output, shape, c.steps(), causalEngine, c.validationEvery(),
                c.validationBatches(), c.checkpointEvery(), checkpointKeep, ResumePolicy.Mode.NEVER, null);
    }

    /** Where the label comes from, for messages: {@code column "x"} or {@code metadata key "label"}. */
    public String labelSource() {
        return labelColumn != null ? "column \"" + labelColumn + "\"" : "metadata key \"" + labelMetadataKey + "\"";
    }

    public int batchSize() {
        return engine.batchSize();
    }

    public long seed() {
        return engine.seed();
    }

    public EngineConfig.Optimizer optimizer() {
        return engine.optimizer();
    }

    public EngineConfig.Parallel parallel() {
        return engine.parallel();
    }

    public int logEvery() {
        return engine.logEvery();
    }
}
