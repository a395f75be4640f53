package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * A fine-tuned classifier read back from its checkpoint folder (for the evaluate stage and the tests): the model,
 * its label list (class index = position), its context length and the tokenizer it expects.
 */
public record ClassifierCheckpoint(Path folder, ComputationGraph model, List<String> labels, int contextLength,
                                   String tokenizerSha256, JsonNode stage) {
    /** A step folder, or a classify fine-tune's output folder (its best/), opened by {@link ModelCheckpoints}. */
    public static ClassifierCheckpoint load(FileSystem fs, Path given, String key) throws IOException {
        ModelCheckpoint c = ModelCheckpoints.open(fs, given, key).requireClassifier(key);
        return new ClassifierCheckpoint(new Path(c.folder()), c.model(), c.labels(), c.stage().path("context_length").asInt(),
                c.tokenizerSha256(), c.stage());
    }

    /**
     * Class probabilities {@code [n, K]} of tokenized documents, as the fine-tune scored its test split: each truncated
     * to the checkpoint's windows x T tokens by its truncation, cut into windows, the windows' probabilities averaged.
     */
    public INDArray probabilities(List<int[]> documents) {
        int windows = stage.path("windows").asInt(1);
        FinetuneConfig.Truncation truncation = FinetuneConfig.Truncation.valueOf(
                stage.path("truncation").asText("head").toUpperCase(Locale.ROOT).replace('-', '_'));
        List<int[]> kept = documents.stream()
                .map(d -> LabelledDocuments.truncate(d, contextLength * windows, truncation)).toList();
        return Nd4j.create(Finetuning.probabilities(model, kept, contextLength)).castTo(model.getConfiguration().getDataType());
    }
}
