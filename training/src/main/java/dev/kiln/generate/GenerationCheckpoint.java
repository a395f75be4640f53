package dev.kiln.generate;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.model.GptModel;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.CheckpointTokenizer;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * What generation needs from a training run, checked before any prompt is read: the checkpoint's weights (as the
 * bytes of its model.zip, which is what is broadcast), the tokenizer its shards were made with and the end-of-text id.
 *
 * @param folder          the {@code step-NNNNNNNN} folder (or an imported Hugging Face folder)
 * @param modelZip        DL4J ModelSerializer bytes of the model (its optimizer state is not restored)
 * @param tokenizerJson   the tokenizer's tokenizer.json, whose SHA-256 matched the checkpoint's
 * @param endOfText       the id that ends a sequence
 */
public record GenerationCheckpoint(String folder, long step, byte[] modelZip, String tokenizerJson, String tokenizerPath,
                                   int endOfText, int contextLength, int vocabSize)
        implements Serializable {

    /** Resolves, reads and cross-checks the checkpoint and tokenizer; bad input is an InvalidConfigException naming the path. */
    public static GenerationCheckpoint open(GenerationConfig cfg, Configuration hadoop) throws IOException {
        return open(cfg.checkpoint(), cfg.tokenizer(), cfg.endOfText(), GenerationConfig.SECTION, hadoop);
    }

    /**
     * The same for any stage that starts from a language model ({@link ModelCheckpoints}): {@code checkpoint},
     * {@code tokenizer} (null: the checkpoint's own) and {@code endOfText} are the values of the keys
     * {@code section.checkpoint}, {@code section.tokenizer} and {@code section.end-of-text} (null: {@link #endOfText()}
     * is -1), which errors name.
     */
    public static GenerationCheckpoint open(String checkpoint, String tokenizer, String endOfText, String section,
                                            Configuration hadoop) throws IOException {
        ModelCheckpoint m = ModelCheckpoints.open(hadoop, checkpoint, section + ".checkpoint")
                .requireLanguageModel(section + ".checkpoint");
        CheckpointTokenizer tok = ModelCheckpoints.tokenizer(hadoop, m, tokenizer, section + ".tokenizer");
        int eot = -1; // none asked for (endOfText null): the caller does not generate
        try {
            if (endOfText != null) {
                eot = tok.tokenizer().specialTokenId(endOfText);
            }
        } catch (IllegalArgumentException e) {
            throw bad(section + ".end-of-text", tok.path() + ": " + e.getMessage());
        }
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(m.model(), zip, false); // the weights only: generation needs no optimizer state
        return new GenerationCheckpoint(m.folder(), m.step(), zip.toByteArray(), tok.json(), tok.path(), eot,
                m.contextLength(), m.vocabSize());
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
