package dev.kiln.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What generation needs from a training run, checked before any prompt is read: the checkpoint's weights (as the
 * bytes of its model.zip, which is what is broadcast), the tokenizer its shards were made with and the end-of-text id.
 *
 * @param folder          the {@code step-NNNNNNNN} folder
 * @param modelZip        DL4J ModelSerializer bytes of the model (its optimizer state is not restored)
 * @param tokenizerJson   the tokenizer's tokenizer.json, whose SHA-256 matched the checkpoint's
 * @param endOfText       the id that ends a sequence
 * @param importedWeightsSha256 for a model imported from a Hugging Face folder, the SHA-256 of its model.safetensors;
 *                        null for a Kiln checkpoint
 */
public record GenerationCheckpoint(String folder, long step, byte[] modelZip, String tokenizerJson, String tokenizerPath,
                                   int endOfText, int contextLength, int vocabSize, String importedWeightsSha256)
        implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String STATE = "state.json";
    static final String MODEL = "model.zip";
    private static final String CHECKPOINT_KEY = GenerationConfig.SECTION + ".checkpoint";

    /** Resolves, reads and cross-checks the checkpoint and tokenizer; bad input is an InvalidConfigException naming the path. */
    public static GenerationCheckpoint open(GenerationConfig cfg, Configuration hadoop) throws IOException {
        return open(cfg.checkpoint(), cfg.tokenizer(), cfg.endOfText(), GenerationConfig.SECTION, hadoop);
    }

    /**
     * The same for any stage that starts from a pre-training checkpoint: {@code checkpoint}, {@code tokenizer}
     * (null: the one of the checkpoint's shards) and {@code endOfText} are the values of the keys
     * {@code section.checkpoint}, {@code section.tokenizer} and {@code section.end-of-text}, which errors name
     * ({@code endOfText} null: none is needed, {@link #endOfText()} is -1).
     */
    public static GenerationCheckpoint open(String checkpoint, String tokenizer, String endOfText, String section,
                                            Configuration hadoop) throws IOException {
        final String CHECKPOINT_KEY = section + ".checkpoint";
        final String TOKENIZER_KEY = section + ".tokenizer";
        Path given = new Path(checkpoint);
        FileSystem fs = given.getFileSystem(hadoop);
        Path folder = resolve(fs, given, CHECKPOINT_KEY);
        JsonNode state;
        try (FSDataInputStream in = fs.open(new Path(folder, STATE))) {
            state = JSON.readTree(in);
        } catch (IOException e) {
            throw bad(CHECKPOINT_KEY, folder + "/" + STATE + " is not readable JSON: " + e.getMessage());
        }
        if (!state.path("step").canConvertToLong() || !state.has("config") || !fs.exists(new Path(folder, MODEL))) {
            throw bad(CHECKPOINT_KEY, folder + " is not a Kiln checkpoint: expected " + STATE + " with step and config, and "
                    + MODEL);
        }
        byte[] zip;
        try (FSDataInputStream in = fs.open(new Path(folder, MODEL))) {
            zip = in.readAllBytes();
        }
        GraphModel model;
        try {
            model = new GraphModel(restore(zip));
        } catch (IOException | RuntimeException e) {
            throw bad(CHECKPOINT_KEY, folder + "/" + MODEL + " is not a Kiln GPT model: " + e.getMessage());
        }

        String checkpointSha = state.path("tokenizer_sha256").asText(null);
        Optional<Manifest> manifest = Optional.empty();
        String tokenizerPath;
        if (tokenizer != null) {
            tokenizerPath = tokenizer;
        } else {
            String shards = state.path("config").path("shards").asText(null);
            if (shards == null) {
                throw bad(TOKENIZER_KEY, folder + "/" + STATE + " names no training shards; set " + TOKENIZER_KEY);
            }
            Path shardDir = new Path(shards);
            FileSystem shardFs = shardDir.getFileSystem(hadoop);
            manifest = Manifest.readIfExists(shardFs, shardDir);
            if (manifest.isEmpty()) {
                throw bad(TOKENIZER_KEY, "the checkpoint's training shards " + shardDir + " have no " + Manifest.FILE_NAME
                        + "; set " + TOKENIZER_KEY + " to the tokenizer.json the shards were made with");
            }
            tokenizerPath = new Path(shardDir, manifest.get().tokenizer()).toString();
        }
        String json;
        Path tp = new Path(tokenizerPath);
        try (FSDataInputStream in = tp.getFileSystem(hadoop).open(tp)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw bad(TOKENIZER_KEY, "cannot read the tokenizer " + tokenizerPath + ": " + e.getMessage());
        }
        String sha = FileHashes.sha256(json);
        if (checkpointSha != null && !checkpointSha.equals(sha)) {
            throw bad(TOKENIZER_KEY, "the tokenizer " + tokenizerPath + " has SHA-256 " + sha + ", but checkpoint " + folder
                    + " was trained on shards of tokenizer " + checkpointSha);
        }
        BpeTokenizer tok;
        try {
            tok = TokenizerJson.read(json, tokenizerPath);
        } catch (IllegalArgumentException e) {
            throw bad(TOKENIZER_KEY, e.getMessage());
        }
        if (tok.vocabSize() != model.vocabSize()) {
            throw bad(TOKENIZER_KEY, "the tokenizer " + tokenizerPath + " has " + tok.vocabSize()
                    + " tokens, the model of " + folder + " " + model.vocabSize());
        }
        int eot = -1; // no end-of-text token asked for (fine-tuning does not generate)
        try {
            if (endOfText != null) {
                eot = tok.specialTokenId(endOfText);
            }
        } catch (IllegalArgumentException e) {
            throw bad(section + ".end-of-text", tokenizerPath + ": " + e.getMessage());
        }
        return new GenerationCheckpoint(folder.toString(), state.path("step").asLong(), zip, json, tokenizerPath, eot,
                model.contextLength(), model.vocabSize(), null);
    }

    /** Whether the model was imported from a Hugging Face folder (it then has no state.json and no training shards). */
    public boolean imported() {
        return importedWeightsSha256 != null;
    }

    /** The SHA-256 that identifies the parent's weights: of model.zip, or of an imported model.safetensors. */
    public String modelSha256() {
        return imported() ? importedWeightsSha256 : FileHashes.sha256(modelZip);
    }

    /** A step folder as given, else the newest step folder in {@code given/checkpoints/} or in {@code given/}. */
    static Path resolve(FileSystem fs, Path given) throws IOException {
        return resolve(fs, given, CHECKPOINT_KEY);
    }

    /** As {@link #resolve(FileSystem, Path)}, errors naming {@code key}. */
    public static Path resolve(FileSystem fs, Path given, String key) throws IOException {
        if (!fs.exists(given)) {
            throw bad(key, given + " does not exist");
        }
        if (fs.exists(new Path(given, STATE))) {
            return given;
        }
        for (Path dir : new Path[]{new Path(given, "checkpoints"), given}) {
            Optional<Path> latest = new CheckpointStore(fs, dir, Integer.MAX_VALUE).latest();
            if (latest.isPresent()) {
                return latest.get();
            }
        }
        throw bad(key, given + " is not a Kiln checkpoint: it has no " + STATE
                + " and no step-NNNNNNNN folders (in itself or in checkpoints/)");
    }

    /** A fresh model from the broadcast bytes, for inference (no updater state). */
    public static ComputationGraph restore(byte[] zip) throws IOException {
        return GptModel.tie(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(zip), false));
    }

    public BpeTokenizer tokenizer() {
        return TokenizerJson.read(tokenizerJson, tokenizerPath);
    }

    private static InvalidConfigException bad(String key, String problem) {
        return new InvalidConfigException(key, null, problem);
    }
}
