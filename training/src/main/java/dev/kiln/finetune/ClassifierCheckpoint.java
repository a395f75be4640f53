package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.generate.GenerationCheckpoint;
import dev.kiln.model.ClassifierModel;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A fine-tuned classifier read back from its checkpoint folder (for the evaluate stage and the tests): the model,
 * its label list (class index = position), its context length and the tokenizer it expects.
 */
public record ClassifierCheckpoint(Path folder, ComputationGraph model, List<String> labels, int contextLength,
                                   String tokenizerSha256, JsonNode stage) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A step folder, or the newest one of a checkpoints/ or best/ folder, or of a run's best/. */
    public static ClassifierCheckpoint load(FileSystem fs, Path given, String key) throws IOException {
        Path folder = fs.exists(new Path(given, "best")) ? GenerationCheckpoint.resolve(fs, new Path(given, "best"), key)
                : GenerationCheckpoint.resolve(fs, given, key);
        Checkpoint c;
        try {
            c = new CheckpointStore(fs, folder.getParent(), Integer.MAX_VALUE).load(folder);
        } catch (IOException | RuntimeException e) {
            throw new InvalidConfigException(key, null, folder + " is not a readable Kiln checkpoint: " + e.getMessage());
        }
        JsonNode stage = c.stageJson() == null ? null : JSON.readTree(c.stageJson());
        if (stage == null || !"classify".equals(stage.path("task").asText())) {
            throw new InvalidConfigException(key, null, folder + " is not a Kiln classifier checkpoint (its state.json has no "
                    + "stage.task = classify)");
        }
        List<String> labels = new ArrayList<>();
        stage.path("labels").forEach(n -> labels.add(n.asText()));
        if (labels.size() != ClassifierModel.classes(c.model())) {
            throw new InvalidConfigException(key, null, folder + " lists " + labels.size() + " labels for a head of "
                    + ClassifierModel.classes(c.model()) + " classes");
        }
        return new ClassifierCheckpoint(folder, c.model(), List.copyOf(labels), stage.path("context_length").asInt(),
                c.tokenizerSha256(), stage);
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
