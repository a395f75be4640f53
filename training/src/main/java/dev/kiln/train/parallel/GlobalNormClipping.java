package dev.kiln.train.parallel;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * Clips the global L2 norm of the gradient (GPT's {@code clip_grad_norm_}), which DL4J lacks (its options are per
 * layer or per parameter type). Runs between the backward pass and the updater, on the flat gradient view.
 *
 * <p>The threshold applies to the gradient of the mean per-token loss, the quantity GPT recipes quote (PyTorch's
 * {@code clip_grad_norm_} after {@code loss.mean().backward()}). The gradient DL4J hands to listeners is that of the
 * loss summed over all B x T predicted tokens of the minibatch (its updater divides by B later), so the norm of the
 * mean-loss gradient is {@code norm / (B * T)}; a test checks this against finite differences. Records that norm
 * for the metrics; the step's loss is the model's score ({@link Replica#train}).
 */
final class GlobalNormClipping extends BaseTrainingListener {
    private final double maxNorm;
    private final int contextLength;
    private final List<INDArray> frozen;
    private double lastNorm;

    GlobalNormClipping(double maxNorm, int contextLength) {
        this(maxNorm, contextLength, List.of());
    }

    /**
     * {@code contextLength}: the loss terms per row (T predicted tokens; 1 for a classified sequence).
     * {@code frozen}: gradient views of frozen layers, zeroed first (they count neither in the norm nor in the update).
     */
    GlobalNormClipping(double maxNorm, int contextLength, List<INDArray> frozen) {
        this.maxNorm = maxNorm;
        this.contextLength = contextLength;
        this.frozen = frozen;
    }

    @Override
    public void onGradientCalculation(Model model) {
        ComputationGraph graph = (ComputationGraph) model;
        for (INDArray g : frozen) {
            g.assign(0);
        }
        INDArray flat = graph.gradient().gradient();
        double norm = flat.norm2Number().doubleValue() / ((double) graph.batchSize() * contextLength);
        lastNorm = norm;
        if (maxNorm > 0 && norm > maxNorm) {
            flat.muli(maxNorm / norm);
        }
    }

    /** Per-token gradient norm of the last step, before clipping. */
    double lastNorm() {
        return lastNorm;
    }
}
