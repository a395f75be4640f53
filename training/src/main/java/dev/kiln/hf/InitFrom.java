package dev.kiln.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.HfImport;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.util.List;

/**
 * {@code kiln.train.init-from}: pre-training that starts from a Hugging Face GPT-2 folder's weights. The folder's
 * shape must be the run's ({@code kiln.train.model.*}, vocabulary from the shards, context at most its
 * {@code n_positions}) and its tokenizer.json the one the shards were made with; checkpoints record the folder and
 * the SHA-256 of its model.safetensors under "stage".
 */
public final class InitFrom {
    public static final String KEY = TrainConfig.SECTION + ".init-from";
    private static final ObjectMapper JSON = new ObjectMapper();

    private InitFrom() {
    }

    /** The continuation {@link Pretraining#run} starts from, or null without {@code init-from}. */
    public static Pretrainer.Continuation continuation(TrainConfig cfg, Configuration hadoop) throws IOException {
        if (cfg.initFrom() == null) {
            return null;
        }
        Path folder = new Path(cfg.initFrom());
        FileSystem fs = folder.getFileSystem(hadoop);
        if (!fs.exists(folder) || !HfImport.isHuggingFaceFolder(fs, folder)) {
            throw new InvalidConfigException(KEY, cfg.initFrom(), "is not a Hugging Face model folder (config.json, "
                    + "model.safetensors, tokenizer.json)");
        }
        HfImport.HfModel m = HfImport.read(fs, folder, KEY);
        Path shards = new Path(cfg.shards());
        Manifest manifest = Manifest.read(shards.getFileSystem(hadoop), shards);
        String tokenizerSha = FileHashes.sha256(m.tokenizerJson());
        if (!tokenizerSha.equals(manifest.tokenizerSha256())) {
            throw new InvalidConfigException(KEY, cfg.initFrom(), "its tokenizer.json (SHA-256 " + tokenizerSha + ") is not the "
                    + "one the shards " + shards + " were made with (" + manifest.tokenizerSha256() + "): tokenize the corpus "
                    + "with kiln.tokenize.tokenizer.path = " + new Path(folder, HfImport.TOKENIZER));
        }
        GptConfig run = Pretraining.modelShape(cfg, manifest);
        GptConfig theirs = m.shape();
        GptConfig expected = new GptConfig(theirs.vocabSize(), run.contextLength(), theirs.dModel(), theirs.layers(),
                theirs.heads(), theirs.mlpRatio(), theirs.tiedEmbeddings(), theirs.headBias());
        if (!expected.equals(run) || run.contextLength() > theirs.contextLength()) {
            throw new InvalidConfigException(KEY, cfg.initFrom(), "is " + theirs + " (n_positions " + theirs.contextLength()
                    + "); this run's kiln.train.model.* and shards make " + run + ": set layers, d-model, heads, mlp-ratio and "
                    + "tie-embeddings to the folder's (head-bias = false), with a context of at most its n_positions");
        }
        return new Pretrainer.Continuation(initialModel(m, run, cfg), List.of(), List.of(), stageJson(m),
                "[pretrain]", TrainConfig.SECTION + ".output");
    }

    /** The imported weights in a model with this run's optimizer (fresh AdamW moments). */
    private static ComputationGraph initialModel(HfImport.HfModel m, GptConfig shape, TrainConfig cfg) {
        ComputationGraph model = GptModel.build(shape, cfg.engine().adam(cfg.learningRateSchedule()), cfg.optimizer().weightDecay(),
                cfg.seed(), DataType.FLOAT);
        HfImport.assign(m, model);
        return model;
    }

    private static String stageJson(HfImport.HfModel m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", "pretrain");
        ObjectNode from = n.putObject("init_from");
        from.put("path", m.folder());
        from.put("format", "huggingface");
        from.put("model_sha256", m.weightsSha256());
        return n.toString();
    }
}
