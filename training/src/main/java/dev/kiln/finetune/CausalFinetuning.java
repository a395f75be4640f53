package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.ResumePolicy;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.data.ShardBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@code kiln.finetune.task = causal}: continued language-model training of a {@code kiln pretrain} checkpoint on
 * another token shard set of the same tokenizer, on the pre-training engine ({@link Pretraining}). What differs from
 * pre-training: the weights start as the parent's (the optimizer state and step counter start afresh, under
 * {@code kiln.finetune.causal}'s lower learning rate), layers may be frozen as for classify, the validation loss is
 * measured on the parent's corpus too (forgetting), and checkpoints record the parent's path and model SHA-256.
 */
public final class CausalFinetuning {
    private static final Logger LOG = LoggerFactory.getLogger(CausalFinetuning.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SHARDS_KEY = FinetuneConfig.SECTION + ".causal.shards";
    static final String ORIGINAL_KEY = FinetuneConfig.SECTION + ".causal.original-shards";

    private CausalFinetuning() {
    }

    /** {@code spark} may be null when {@code parallel.workers = 1}; {@code resume} is {@code --resume}. */
    public static Pretrainer.Result run(SparkSession spark, FinetuneConfig cfg, Lineage lineage, boolean resume)
            throws IOException {
        Configuration hadoop = spark != null ? spark.sparkContext().hadoopConfiguration() : new Configuration();
        ParentModel parent = ParentModel.open(cfg, hadoop);
        String parentSha = parent.checkpoint().modelSha256();
        String tokenizerSha = parent.tokenizer().sha256();
        FinetuneConfig.Causal c = cfg.causal();

        // The plan before any training: both corpora of the parent's tokenizer, vocabulary and context.
        Path shards = new Path(c.shards());
        checkTokenizer(Manifest.read(shards.getFileSystem(hadoop), shards), shards, SHARDS_KEY, parent, tokenizerSha);
        Path original = new Path(c.originalShards() != null ? c.originalShards() : parentShards(parent));
        FileSystem originalFs = original.getFileSystem(hadoop);
        Manifest originalManifest = Manifest.read(originalFs, original);
        checkTokenizer(originalManifest, original, ORIGINAL_KEY, parent, tokenizerSha);
        List<Path> originalPaths = originalManifest.shardPaths(original, ShardSchema.VALIDATION);
        if (originalPaths.isEmpty()) {
            originalPaths = originalManifest.shardPaths(original, ShardSchema.TRAIN);
        }
        List<int[][]> originalBatches = ShardBatches.firstBatches(originalFs, originalPaths, cfg.batchSize(),
                c.validationBatches());

        ComputationGraph parentModel = parent.checkpoint().model();
        GptConfig shape = parent.checkpoint().shape();
        List<String> frozen = Finetuning.frozenLayers(cfg, shape);
        TrainConfig training = cfg.causalTraining(new TrainConfig.ModelShape(shape.layers(), shape.dModel(), shape.heads(),
                shape.mlpRatio(), shape.tiedEmbeddings(), shape.headBias()));

        Path output = new Path(cfg.output());
        CheckpointStore checkpoints = new CheckpointStore(output.getFileSystem(hadoop), new Path(output, "checkpoints"),
                cfg.checkpointKeep());
        Optional<Path> latest = checkpoints.latest();
        if (resume && latest.isPresent()) {
            JsonNode stage = checkpoints.readState(latest.get()).path("stage");
            if (!"causal".equals(stage.path("task").asText()) || !parentSha.equals(stage.path("parent").path("model_sha256").asText())) {
                throw new InvalidConfigException(FinetuneConfig.SECTION + ".output", latest.get().toString(),
                        "holds a " + stage.path("task").asText("?") + " fine-tune of parent " + stage.path("parent").path("path").asText("?")
                                + " (model SHA-256 " + stage.path("parent").path("model_sha256").asText("?")
                                + "); this run continues parent " + parent.folder() + " (" + parentSha + ")");
            }
        }
        LOG.info("[finetune] causal: parent {} (step {}), {} frozen layers, new corpus {}, original corpus {}",
                parent.folder(), parent.checkpoint().step(), frozen.size(), shards, original);
        Pretrainer.Continuation from = new Pretrainer.Continuation(initialModel(parentModel, shape, training, frozen),
                frozen, originalBatches, stageJson(parent, shards, original, frozen), "[finetune]",
                FinetuneConfig.SECTION + ".output");
        // "shards" at the top, as in a pre-training checkpoint: kiln generate (and a further fine-tune) find the
        // tokenizer through it.
        ObjectNode recorded = lineage.config().deepCopy();
        recorded.put("shards", shards.toString());
        return Pretraining.run(spark, training, lineage, recorded.toString(),
                resume ? ResumePolicy.Mode.ALWAYS : ResumePolicy.Mode.NEVER, from);
    }

    /** The parent's weights in a model of this run's optimizer (fresh AdamW moments), frozen layers without decay. */
    static ComputationGraph initialModel(ComputationGraph parent, GptConfig shape, TrainConfig training, List<String> frozen) {
        ComputationGraphConfiguration conf = GptModel.configuration(shape, training.engine().adam(training.learningRateSchedule()),
                training.optimizer().weightDecay(), training.seed(), DataType.FLOAT);
        ClassifierModel.withoutWeightDecay(conf, frozen);
        ComputationGraph model = new ComputationGraph(conf);
        model.init();
        GptModel.tie(model);
        if (model.numParams() != parent.numParams()) {
            throw new IllegalStateException("the parent holds " + parent.numParams() + " parameters, a model of its shape "
                    + shape + " " + model.numParams());
        }
        model.setParams(parent.params().castTo(DataType.FLOAT));
        return model;
    }

    static void checkTokenizer(Manifest m, Path shards, String key, ParentModel parent, String tokenizerSha) {
        if (!tokenizerSha.equals(m.tokenizerSha256())) {
            throw new InvalidConfigException(key, shards.toString(), "was tokenized with tokenizer " + m.tokenizerSha256()
                    + " (" + m.tokenizer() + "), but the parent checkpoint " + parent.folder() + " was trained with tokenizer "
                    + tokenizerSha + " (" + parent.tokenizer().path() + "): tokenize the corpus with "
                    + "kiln.tokenize.tokenizer.path = " + parent.tokenizer().path());
        }
        ModelCheckpoint p = parent.checkpoint();
        if (m.vocabSize() != p.vocabSize() || m.contextLength() != p.contextLength()) {
            throw new InvalidConfigException(key, shards.toString(), "has vocabulary " + m.vocabSize() + " and context "
                    + m.contextLength() + "; the parent has vocabulary " + p.vocabSize() + " and context "
                    + p.contextLength());
        }
    }

    /** kiln.train.shards as the parent's state.json records it. */
    static String parentShards(ParentModel parent) throws IOException {
        if (parent.checkpoint().imported()) {
            throw new InvalidConfigException(ORIGINAL_KEY, null, "the parent " + parent.folder() + " is a Hugging Face model, "
                    + "which has no training shards of its own: set " + ORIGINAL_KEY);
        }
        String shards = JSON.readTree(parent.checkpoint().configJson()).path("shards").asText(null);
        if (shards == null) {
            throw new InvalidConfigException(ORIGINAL_KEY, null, new Path(parent.folder(), "state.json")
                    + " names no training shards: set " + ORIGINAL_KEY);
        }
        return shards;
    }

    private static String stageJson(ParentModel parent, Path shards, Path original, List<String> frozen) {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", "causal");
        parent.recordIn(n);
        n.put("shards", shards.toString());
        n.put("original_shards", original.toString());
        ArrayNode f = n.putArray("frozen_layers");
        frozen.forEach(f::add);
        return n.toString();
    }
}
