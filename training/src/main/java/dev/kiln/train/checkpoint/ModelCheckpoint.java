package dev.kiln.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.model.GptConfig;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.List;

/**
 * A trained model as {@link ModelCheckpoints#open} found it: a Kiln {@code step-NNNNNNNN} checkpoint or an imported
 * Hugging Face GPT-2 folder.
 *
 * @param folder          the step folder (or the Hugging Face folder), qualified
 * @param kind            a language model (pre-trained or causally fine-tuned) or a classifier
 * @param format          where it came from; an imported model is at step 0 and has no training shards or lineage
 * @param step            optimizer steps done
 * @param model           the graph, tied ({@link dev.kiln.model.GptModel#tie}); a Kiln checkpoint's AdamW state is restored too
 * @param shape           the GPT trunk's shape (context length, vocabulary, layers, ...)
 * @param modelSha256     identifies the weights: the SHA-256 of model.zip, or of an imported model.safetensors
 * @param tokenizerSha256 the tokenizer the model's ids are of (state.json's tokenizer_sha256, or of the imported
 *                        folder's tokenizer.json); null for a checkpoint that records none
 * @param stage           state.json's "stage" object (fine-tuning: task, labels, parent); empty for a pre-training
 *                        checkpoint; for an imported model, its origin
 * @param configJson      the stage's resolved config (state.json's "config"), "{}" for an imported model
 * @param lineageJson     state.json's "lineage", or null (imported, or written before Kiln recorded lineage)
 */
public record ModelCheckpoint(String folder, Kind kind, Format format, long step, ComputationGraph model, GptConfig shape,
                              String modelSha256, String tokenizerSha256, JsonNode stage, String configJson,
                              String lineageJson) {
    /** What the head computes. */
    public enum Kind {
        /** next-token logits (pre-training, {@code kiln finetune} with task = causal, an imported GPT-2) */
        LANGUAGE_MODEL,
        /** class probabilities ({@code kiln finetune} with task = classify) */
        CLASSIFIER
    }

    /** Where the model was read from. */
    public enum Format {
        KILN, HUGGING_FACE
    }

    /** This checkpoint, if it is a language model (what generation and fine-tuning start from); else an error for {@code key}. */
    public ModelCheckpoint requireLanguageModel(String key) {
        if (kind != Kind.LANGUAGE_MODEL) {
            throw new InvalidConfigException(key, null, folder + " is a classifier checkpoint (kiln finetune with task = "
                    + "classify, labels " + labels() + "); expected a language model: a kiln pretrain or causal fine-tune checkpoint");
        }
        return this;
    }

    /** This checkpoint, if it is a classifier; else an error for {@code key}. */
    public ModelCheckpoint requireClassifier(String key) {
        if (kind != Kind.CLASSIFIER) {
            throw new InvalidConfigException(key, null, folder + " is not a Kiln classifier checkpoint (its graph has no "
                    + "classifier head: a language model)");
        }
        return this;
    }

    public boolean imported() {
        return format == Format.HUGGING_FACE;
    }

    public int vocabSize() {
        return shape.vocabSize();
    }

    public int contextLength() {
        return shape.contextLength();
    }

    /** A classifier's labels in class order (stage.labels); empty for a language model. */
    public List<String> labels() {
        List<String> labels = new ArrayList<>();
        stage.path("labels").forEach(n -> labels.add(n.asText()));
        return List.copyOf(labels);
    }
}
