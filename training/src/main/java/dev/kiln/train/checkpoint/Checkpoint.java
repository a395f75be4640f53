package dev.kiln.train.checkpoint;

import dev.kiln.train.data.DataPosition;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Everything a run needs to continue exactly where it stopped.
 *
 * @param step           optimizer steps done (the next step's index)
 * @param model          weights, optimizer (AdamW moments) and iteration count
 * @param position       where the training data continues
 * @param outerMomentum  DiLoCo's outer momentum, or null
 * @param configJson     the effective {@code kiln.train} section (lineage; resume checks the model shape against it)
 * @param tokenizerSha256 the tokenizer the shards were made with (resume refuses other shards)
 * @param workers        data-parallel workers of the run
 * @param stageJson      a stage's own state as a JSON object (fine-tuning: labels, parent, early stopping), or null
 * @param lineageJson    the run's {@link dev.kiln.common.config.Lineage#toJson()} (stage, Kiln and library versions, config),
 *                       or null (checkpoints written before Kiln recorded lineage)
 */
public record Checkpoint(long step, ComputationGraph model, DataPosition position, float[] outerMomentum,
                         String configJson, String tokenizerSha256, int workers, String stageJson, String lineageJson) {
    /** A checkpoint without lineage. */
    public Checkpoint(long step, ComputationGraph model, DataPosition position, float[] outerMomentum,
                      String configJson, String tokenizerSha256, int workers, String stageJson) {
        this(step, model, position, outerMomentum, configJson, tokenizerSha256, workers, stageJson, null);
    }

    /** A pre-training checkpoint (no stage state). */
    public Checkpoint(long step, ComputationGraph model, DataPosition position, float[] outerMomentum,
                      String configJson, String tokenizerSha256, int workers) {
        this(step, model, position, outerMomentum, configJson, tokenizerSha256, workers, null, null);
    }
}
