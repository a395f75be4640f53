package dev.kiln.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The one way every stage opens a trained model ({@code kiln generate}, {@code finetune}, {@code export},
 * {@code evaluate}): a location is a {@code step-NNNNNNNN} folder, an output folder (its best checkpoint if it has a
 * {@code best/}, else its newest, in {@code checkpoints/} or in itself), or a Hugging Face GPT-2 folder. Every problem
 * is an {@link InvalidConfigException} naming the key, the path and what is wrong.
 */
public final class ModelCheckpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String STATE = CheckpointStore.STATE;
    static final String MODEL = CheckpointStore.MODEL;

    private ModelCheckpoints() {
    }

    /** Opens the model at {@code location}; {@code key} is the config key that named it. */
    public static ModelCheckpoint open(Configuration hadoop, String location, String key) throws IOException {
        Path given = new Path(location);
        return open(given.getFileSystem(hadoop), given, key);
    }

    /** As {@link #open(Configuration, String, String)}, on {@code fs}. */
    public static ModelCheckpoint open(FileSystem fs, Path given, String key) throws IOException {
        if (fs.exists(given) && HfImport.isHuggingFaceFolder(fs, given)) {
            return openHuggingFace(fs, given, key);
        }
        Path folder = fs.makeQualified(resolve(fs, given, key));
        JsonNode state = readState(fs, folder, key);
        Checkpoint c;
        try {
            c = new CheckpointStore(fs, folder.getParent(), Integer.MAX_VALUE).load(folder);
        } catch (IOException | RuntimeException e) {
            throw bad(key, folder + "/" + MODEL + " is not a readable Kiln model: " + e.getMessage());
        }
        GptConfig shape;
        try {
            shape = GptModel.shapeOf(c.model());
        } catch (IllegalArgumentException e) {
            throw bad(key, folder + "/" + MODEL + " is not a Kiln GPT model: " + e.getMessage());
        }
        JsonNode stage = state.has("stage") ? state.get("stage") : JSON.createObjectNode();
        // The graph says what the head computes; a classifier's state.json lists its labels in class order.
        ModelCheckpoint.Kind kind = c.model().getVertex(ClassifierModel.HEAD) != null
                ? ModelCheckpoint.Kind.CLASSIFIER : ModelCheckpoint.Kind.LANGUAGE_MODEL;
        ModelCheckpoint m = new ModelCheckpoint(folder.toString(), kind, ModelCheckpoint.Format.KILN, c.step(), c.model(),
                shape, FileHashes.sha256(fs, new Path(folder, MODEL)), c.tokenizerSha256(), stage, c.configJson(),
                c.lineageJson());
        if (kind == ModelCheckpoint.Kind.CLASSIFIER && m.labels().size() != ClassifierModel.classes(c.model())) {
            throw bad(key, folder + " lists " + m.labels().size() + " labels for a head of "
                    + ClassifierModel.classes(c.model()) + " classes");
        }
        return m;
    }

    /**
     * The tokenizer of {@code m}'s ids: {@code tokenizer} if given (the value of {@code key}), else an imported
     * folder's tokenizer.json, else the one of the checkpoint's training shards (state.json's config.shards). Its
     * SHA-256 must be the checkpoint's, its vocabulary the model's.
     */
    public static CheckpointTokenizer tokenizer(Configuration hadoop, ModelCheckpoint m, String tokenizer, String key)
            throws IOException {
        String path = tokenizer != null ? tokenizer : m.imported() ? new Path(m.folder(), HfImport.TOKENIZER).toString()
                : trainingTokenizer(hadoop, m, key);
        String json;
        Path file = new Path(path);
        try (FSDataInputStream in = file.getFileSystem(hadoop).open(file)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw bad(key, "cannot read the tokenizer " + path + ": " + e.getMessage());
        }
        String sha = FileHashes.sha256(json);
        if (m.tokenizerSha256() != null && !m.tokenizerSha256().equals(sha)) {
            throw bad(key, "the tokenizer " + path + " has SHA-256 " + sha + ", but " + (m.imported()
                    ? "the Hugging Face model " + m.folder() + " has tokenizer " : "checkpoint " + m.folder()
                    + " was trained on shards of tokenizer ") + m.tokenizerSha256());
        }
        BpeTokenizer tok;
        try {
            tok = TokenizerJson.read(json, path);
        } catch (IllegalArgumentException e) {
            throw bad(key, e.getMessage());
        }
        if (tok.vocabSize() != m.vocabSize()) {
            throw bad(key, "the tokenizer " + path + " has " + tok.vocabSize() + " tokens, the model of " + m.folder() + " "
                    + m.vocabSize());
        }
        return new CheckpointTokenizer(path, json, tok);
    }

    /**
     * A step folder as given; else the newest step folder in {@code given/best/} (a classify fine-tune's best), in
     * {@code given/checkpoints/}, or in {@code given/}.
     */
    public static Path resolve(FileSystem fs, Path given, String key) throws IOException {
        if (!fs.exists(given)) {
            throw bad(key, given + " does not exist");
        }
        if (fs.exists(new Path(given, STATE))) {
            return given;
        }
        for (Path dir : new Path[]{new Path(given, "best"), new Path(given, "checkpoints"), given}) {
            Optional<Path> latest = new CheckpointStore(fs, dir, Integer.MAX_VALUE).latest();
            if (latest.isPresent()) {
                return latest.get();
            }
        }
        throw bad(key, given + " is not a Kiln checkpoint: it has no " + STATE + " and no step-NNNNNNNN folders (in itself, "
                + "in best/ or in checkpoints/), and it is not a Hugging Face model folder (" + HfImport.CONFIG + ")");
    }

    private static JsonNode readState(FileSystem fs, Path folder, String key) {
        JsonNode state;
        try (FSDataInputStream in = fs.open(new Path(folder, STATE))) {
            state = JSON.readTree(in);
        } catch (IOException e) {
            throw bad(key, folder + "/" + STATE + " is not readable JSON: " + e.getMessage());
        }
        try {
            if (!state.path("step").canConvertToLong() || !state.has("config") || !fs.exists(new Path(folder, MODEL))) {
                throw bad(key, folder + " is not a Kiln checkpoint: expected " + STATE + " with step and config, and " + MODEL);
            }
        } catch (IOException e) {
            throw bad(key, "cannot list " + folder + ": " + e.getMessage());
        }
        return state;
    }

    /** The training shards' tokenizer, through their manifest. */
    private static String trainingTokenizer(Configuration hadoop, ModelCheckpoint m, String key) throws IOException {
        String shards = JSON.readTree(m.configJson()).path("shards").asText(null);
        if (shards == null) {
            throw bad(key, m.folder() + "/" + STATE + " names no training shards; set " + key);
        }
        Path shardDir = new Path(shards);
        Optional<Manifest> manifest = Manifest.readIfExists(shardDir.getFileSystem(hadoop), shardDir);
        if (manifest.isEmpty()) {
            throw bad(key, "the checkpoint's training shards " + shardDir + " have no " + Manifest.FILE_NAME
                    + "; set " + key + " to the tokenizer.json the shards were made with");
        }
        return new Path(shardDir, manifest.get().tokenizer()).toString();
    }

    /** A Hugging Face folder as a tied (or untied) Kiln GPT, step 0; stage records its origin. */
    private static ModelCheckpoint openHuggingFace(FileSystem fs, Path folder, String key) throws IOException {
        HfImport.HfModel h = HfImport.read(fs, folder, key);
        ComputationGraph model = GptModel.build(h.shape(), new NoOp(), 0, 0, DataType.FLOAT);
        HfImport.assign(h, model);
        ObjectNode stage = JSON.createObjectNode();
        stage.putObject("imported").put("path", h.folder()).put("format", "huggingface");
        return new ModelCheckpoint(h.folder(), ModelCheckpoint.Kind.LANGUAGE_MODEL, ModelCheckpoint.Format.HUGGING_FACE, 0,
                model, h.shape(), h.weightsSha256(), FileHashes.sha256(h.tokenizerJson()), stage, "{}", null);
    }

    private static InvalidConfigException bad(String key, String problem) {
        return new InvalidConfigException(key, null, problem);
    }
}
